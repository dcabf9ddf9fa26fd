#!/usr/bin/env python3
"""Fetch a foreign architecture's Debian userland into the matrix cache and print its path
(kmatrix/userland.py; scripts/build.sh --arch arm64 builds against it)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kmatrix import userland  # noqa: E402

if __name__ == "__main__":
    sys.exit(userland.main())
