"""What goes into every guest: the CLI, the test executables CTest runs, source data files, objects."""

import json
import os
import re
import shutil
import subprocess
import sys

from .common import log
from .guest_tests import load_test_rules
from .userland import TRIPLETS

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HERE)

# Source files tests may read through their compiled-in BPFPROBE_SOURCE_DIR (facts tables, exception
# lists, fixtures): mirrored into the guest at the same absolute path.
SOURCE_DATA_DIRS = ("probes", "tests", "matrix")


SOURCE_DATA_EXT = (".tsv", ".json", ".txt", ".md", ".csv")


def payload_files(args):
    build = os.path.abspath(args.build)
    tests = []
    if args.tests is None:
        tests = discover_tests(build)
    elif args.tests != "none":
        for item in args.tests.split(","):
            if not item:
                continue
            if os.path.isdir(item):
                tests += sorted(os.path.join(item, f) for f in os.listdir(item)
                                if os.path.isfile(os.path.join(item, f)) and os.access(os.path.join(item, f), os.X_OK))
            elif os.path.isfile(item):
                tests.append(item)
            else:
                sys.exit(f"--tests: no such file or directory: {item}")
    bpfprobe = args.bpfprobe or os.path.join(build, "src/bpfprobe")
    if args.bpfprobe == "none":
        bpfprobe = None
        log("matrix", "--bpfprobe none: running bpftool and tests only", always=True)
    elif not os.access(bpfprobe, os.X_OK):
        sys.exit(f"bpfprobe CLI not found at {bpfprobe} (build it, or pass --bpfprobe PATH)")
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        sys.exit("bpftool not found on the host (scripts/install-deps.sh installs it)")
    payload = {"bpfprobe": bpfprobe and os.path.abspath(bpfprobe), "bpftool": bpftool,
               "tests": [os.path.abspath(t) for t in tests],
               "test_rules": load_test_rules(os.path.join(HERE, "tests.tsv")),
               "source_data": source_data(build), "objects": object_files(args.object)}
    payload["stripped"] = strip_copies(args.out, [payload["bpfprobe"]] + payload["tests"])
    payload["arch"] = "amd64"
    return payload


def foreign_payload(args, native, arch, tree):
    """The payload for ARCH's guests: the same CLI, test executables and objects from the cross build
    (--build-arm64, built by scripts/build.sh --arch arm64), matched by their path under the native
    build; bpftool, busybox and the libraries from ARCH's Debian userland TREE (kmatrix/userland.py)."""
    native_build, build = os.path.abspath(args.build), os.path.abspath(args.build_arm64)

    def counterpart(path, what):
        if path is None:
            return None
        rel = os.path.relpath(path, native_build)
        other = os.path.join(build, rel)
        if rel.startswith("..") or not os.path.isfile(other):
            sys.exit(f"{arch} payload: no {what} {rel} in {build} (scripts/build.sh --arch {arch})")
        return other

    bpfprobe = counterpart(native["bpfprobe"], "CLI") if args.bpfprobe is None else native["bpfprobe"]
    if args.bpfprobe and args.bpfprobe != "none":
        sys.exit("--bpfprobe PATH names one binary: it cannot serve amd64 and arm64 guests at once")
    payload = dict(native)
    payload.update({"arch": arch, "tree": tree, "bpfprobe": bpfprobe,
                    "bpftool": os.path.join(tree, "usr/sbin/bpftool"),
                    "tests": [] if args.tests_arm64 == "none" else [counterpart(t, "test executable")
                                                                     for t in native["tests"]],
                    "objects": [o if not o.startswith(native_build + os.sep) else counterpart(o, "object")
                                for o in native["objects"]]})
    payload["stripped"] = strip_copies(os.path.join(args.out, f".{arch}"), [payload["bpfprobe"]] + payload["tests"],
                                       f"{TRIPLETS[arch]}-strip")
    return payload


def discover_tests(build):
    """Every executable CTest runs from BUILD (gtest_discover_tests registers one test per case,
    all with the same binary), in registration order, except those whose tests all carry only the
    label `unit` (fixed inputs or fault injection: nothing to learn per kernel)."""
    if not os.path.isdir(build):
        sys.exit(f"build directory {build} not found (build first, or pass --build / --tests)")
    p = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"], text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"ctest --show-only in {build} failed: {p.stderr.strip()[-500:]}")
    labels = {}  # executable -> labels of its tests, in registration order
    for t in json.loads(p.stdout).get("tests", []):
        cmd = t.get("command") or []
        exe = cmd[0] if cmd else ""
        if not exe.startswith(build + os.sep) or not os.access(exe, os.X_OK):
            continue
        if exe not in labels:
            with open(exe, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            labels[exe] = set()
        for prop in t.get("properties", []):
            if prop.get("name") == "LABELS":
                labels[exe].update(prop.get("value") or [])
    unit_only = [os.path.basename(e) for e, ls in labels.items() if ls == {"unit"}]
    if unit_only:
        log("matrix", f"left out (CTest label unit only): {', '.join(unit_only)}")
    return [e for e, ls in labels.items() if ls != {"unit"}]


def source_data(build):
    """Data files under the source tree the tests were built from (see SOURCE_DATA_DIRS)."""
    src = REPO
    cache = os.path.join(build, "CMakeCache.txt")
    if os.path.exists(cache):
        m = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", open(cache).read(), re.M)
        if m and os.path.isdir(m.group(1)):
            src = m.group(1)
    files = []
    for d in SOURCE_DATA_DIRS:
        for dirpath, dirnames, names in os.walk(os.path.join(src, d)):
            dirnames[:] = [n for n in dirnames if not n.startswith((".", "build"))]
            files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(SOURCE_DATA_EXT)
                      and os.path.getsize(os.path.join(dirpath, n)) < 1 << 20]
    return files


def strip_copies(out, binaries, strip_tool="strip"):
    """{host path: copy without debug info} (RelWithDebInfo binaries are mostly DWARF)."""
    strip = shutil.which(strip_tool)
    copies = {}
    if not strip:
        return copies
    d = os.path.join(out, ".payload")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for b in binaries:
        if not b:
            continue
        dst = os.path.join(d, os.path.basename(b))
        if subprocess.run([strip, "--strip-debug", "-o", dst, b], capture_output=True).returncode == 0:
            copies[b] = dst
    return copies


def object_files(paths):
    """Absolute paths of the --object files: each must be a readable regular file, names unique (they
    share one directory in the guest)."""
    files, names = [], set()
    for p in paths:
        if not os.path.isfile(p) or not os.access(p, os.R_OK):
            sys.exit(f"--object: not a readable regular file: {p}")
        base = os.path.basename(p)
        if base in names:
            sys.exit(f"--object: two objects named {base}")
        names.add(base)
        files.append(os.path.abspath(p))
    return files
