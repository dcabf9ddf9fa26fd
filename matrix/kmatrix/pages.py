"""Writing rendered pages (grid.py, object_grid.py) and their shared command line."""

import os
import sys


def write_pages(pages, dirs):
    """Each {file name: text} of PAGES into every directory of DIRS; returns the paths written."""
    written = []
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        for name, text in pages.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            written.append(os.path.join(d, name))
    return written


def main(write, default_out):
    """`SCRIPT [OUT] [--docs DIR]`: render OUT's results with WRITE(out, dirs) and print the paths."""
    args = sys.argv[1:]
    docs = None
    if "--docs" in args:
        i = args.index("--docs")
        if i + 1 >= len(args):
            sys.exit("--docs needs a directory")
        docs = args[i + 1]
        del args[i:i + 2]
    out = os.path.abspath(args[0] if args else default_out)
    for path in write(out, [out] + ([docs] if docs else [])):
        print(path)
