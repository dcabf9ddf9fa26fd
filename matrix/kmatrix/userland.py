"""A foreign architecture's Debian userland, extracted once into the cache from signed indexes.

The same tree serves two purposes for arm64:
  - cross-building bpfprobe (scripts/build.sh --arch arm64): the -dev packages' libraries and headers,
    used beside the cross compiler's own libc and libstdc++ (cmake/toolchain-arm64.cmake);
  - the arm64 guest: busybox-static, bpftool and every shared library the payload needs, resolved from
    the binaries' DT_NEEDED entries (initramfs.py), since ldd cannot run a foreign binary.
Nothing is installed on the host: no `dpkg --add-architecture`, so the host's own packages never have
to match the foreign ones version for version (multiarch's rule for Multi-Arch: same packages).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

from .apt import Apt, DEFAULT_MIRROR
from .common import Failure, log, run
from .fetch import package_lock

# (suite, package). bookworm-backports where the host build uses it too (install-deps.sh): libbpf,
# bpftool and the uapi headers.
PACKAGES = (
    ("bookworm", "busybox-static"), ("bookworm", "libc6"), ("bookworm", "libstdc++6"),
    ("bookworm", "libgcc-s1"), ("bookworm", "libelf1"), ("bookworm", "libelf-dev"),
    ("bookworm", "zlib1g"), ("bookworm", "zlib1g-dev"), ("bookworm", "libzstd1"),
    ("bookworm", "libzstd-dev"), ("bookworm", "libcap2"), ("bookworm", "libcap-ng0"),
    ("bookworm", "libselinux1"), ("bookworm", "libpcre2-8-0"), ("bookworm", "util-linux"),
    ("bookworm", "libgtest-dev"), ("bookworm", "libgmock-dev"),
    ("bookworm-backports", "libbpf1"), ("bookworm-backports", "libbpf-dev"),
    ("bookworm-backports", "bpftool"), ("bookworm-backports", "linux-libc-dev"),
)
SUITES = tuple(dict.fromkeys(s for s, _ in PACKAGES))
TRIPLETS = {"arm64": "aarch64-linux-gnu"}


def apt_for(cache, mirror, entries, extra_arch=None):
    """The matrix's private apt for ENTRIES (all of kernels.txt, so that every caller writes the same
    sources and the index is not updated again for each): their suites and architectures, plus the
    userland's suites when an entry (or EXTRA_ARCH) is of a foreign architecture."""
    arches = list(dict.fromkeys(["amd64"] + [e["arch"] for e in entries] + ([extra_arch] if extra_arch else [])))
    suites = [e["suite"] for e in entries] + (list(SUITES) if len(arches) > 1 else [])
    return Apt(os.path.join(cache, "apt"), list(dict.fromkeys(suites)), mirror, tuple(arches))


def resolve_userland(apt, arch):
    """[(name[:arch], version)] of PACKAGES for ARCH, newest in its suite."""
    found = []
    for suite in SUITES:
        names = [n for s, n in PACKAGES if s == suite]
        index = apt.packages(suite, arch, names)
        for n in names:
            if n not in index:
                raise Failure("resolve-failed", f"{n}:{arch} is not in {suite}")
            # An Architecture: all package (linux-libc-dev from 6.12 on) has no :arch name.
            found.append((n if index[n].get("Architecture") == "all" else f"{n}:{arch}", index[n]["Version"]))
    return found


def fetch_userland(apt, cache, arch):
    """The extracted tree for ARCH (downloaded once; a new package version makes a new tree)."""
    pkgs = resolve_userland(apt, arch)
    digest = hashlib.sha256(json.dumps(pkgs).encode()).hexdigest()[:16]
    base = os.path.join(cache, "userland")
    os.makedirs(base, exist_ok=True)
    tree = os.path.join(base, f"{arch}-{digest}")
    debs, partial = tree + ".debs", tree + ".partial"
    with package_lock(tree + ".lock"):
        if os.path.exists(os.path.join(tree, "packages.json")):
            return tree
        try:
            for scratch in (debs, partial):
                shutil.rmtree(scratch, ignore_errors=True)
            try:
                apt.download(pkgs, debs)
            except subprocess.CalledProcessError as e:
                raise Failure("download-failed", (e.stderr or e.stdout or str(e)).strip()[-2000:])
            os.makedirs(partial)
            for deb in sorted(os.listdir(debs)):
                run(["dpkg-deb", "-x", os.path.join(debs, deb), partial])
            relative_symlinks(partial)
            with open(os.path.join(partial, "packages.json"), "w") as f:
                json.dump({"arch": arch, "packages": pkgs}, f, indent=1)
            os.rename(partial, tree)
            log("userland", f"{arch}: {len(pkgs)} packages extracted into {tree}", always=True)
        finally:
            shutil.rmtree(debs, ignore_errors=True)
            shutil.rmtree(partial, ignore_errors=True)
    return tree


def relative_symlinks(tree):
    """Absolute symlinks in TREE (libz.so -> /lib/.../libz.so.1) made relative, so that they point into
    the tree and not at the host's files."""
    for dirpath, dirnames, names in os.walk(tree):
        for n in dirnames + names:
            link = os.path.join(dirpath, n)
            if os.path.islink(link) and os.readlink(link).startswith("/"):
                target = os.path.join(tree, os.readlink(link).lstrip("/"))
                os.remove(link)
                os.symlink(os.path.relpath(target, dirpath), link)


def library_dirs(tree, arch):
    t = TRIPLETS[arch]
    return [os.path.join(tree, "usr/lib", t), os.path.join(tree, "lib", t), os.path.join(tree, "usr/lib"),
            os.path.join(tree, "lib")]


def needed(path):
    """DT_NEEDED names and the program interpreter of the ELF file PATH (readelf works on any arch)."""
    out = run(["readelf", "-d", "-l", "-W", path]).stdout
    names, interp = [], None
    for line in out.splitlines():
        if "(NEEDED)" in line and "[" in line:
            names.append(line.rsplit("[", 1)[1].rstrip("]"))
        elif "Requesting program interpreter:" in line:
            interp = line.split(":", 1)[1].strip().rstrip("]")
    return names, interp


def shared_libs_in(tree, arch, binary):
    """[(guest path, host path)] of the libraries and loader BINARY needs, found in TREE."""
    dirs = library_dirs(tree, arch)
    found, todo = {}, [binary]
    while todo:
        names, interp = needed(todo.pop())
        if interp and interp not in found:
            host = os.path.join(tree, interp.lstrip("/"))
            if not os.path.exists(host):
                host = os.path.join(tree, "usr", interp.lstrip("/"))  # merged /usr
            if not os.path.exists(host):
                raise Failure("payload-error", f"{binary}: loader {interp} not in the {arch} userland")
            found[interp] = os.path.realpath(host)
        for name in names:
            if any(g.endswith("/" + name) for g in found):
                continue
            for d in dirs:
                host = os.path.join(d, name)
                if os.path.exists(host):
                    guest = "/" + os.path.relpath(os.path.join(d, name), tree)
                    found[guest] = os.path.realpath(host)
                    todo.append(found[guest])
                    break
            else:
                raise Failure("payload-error", f"{binary}: {name} not in the {arch} userland")
    return sorted(found.items())


def main():
    """`userland.py ARCH [--cache DIR]`: fetch the tree and print its path (scripts/build.sh --arch)."""
    import argparse
    default_cache = os.path.join(os.environ.get("BPFPROBE_CACHE") or os.path.expanduser("~/.cache/bpfprobe"),
                                 "matrix")
    ap = argparse.ArgumentParser(description="fetch a foreign architecture's userland and print its path")
    ap.add_argument("arch", choices=sorted(TRIPLETS))
    ap.add_argument("--cache", default=default_cache)
    ap.add_argument("--mirror", default=DEFAULT_MIRROR)
    ap.add_argument("--refresh", action="store_true")
    ap.add_argument("--btf", metavar="OUT", help="also write the vmlinux BTF of the newest ARCH kernel in "
                                                  "kernels.txt to OUT (for vmlinux.h)")
    args = ap.parse_args()
    from .apt import resolve
    from .fetch import fetch, locate
    from .kernel_btf import find_btf
    from .kernels import load_kernel_list, kernel_version
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    entries = load_kernel_list(os.path.join(here, "kernels.txt"))
    cache = os.path.abspath(args.cache)
    apt = apt_for(cache, args.mirror, entries, args.arch)
    apt.update(args.refresh)
    try:
        tree = fetch_userland(apt, cache, args.arch)
        if args.btf:
            mine = [e for e in entries if e["arch"] == args.arch]
            if not mine:
                sys.exit(f"userland {args.arch}: no {args.arch} kernel in kernels.txt for --btf")
            newest = max(mine, key=lambda e: kernel_version(e["series"]))
            ktree, _ = fetch(apt, cache, newest["name"], resolve(apt, newest))
            vmlinuz, release, _, _ = locate(ktree)
            with open(vmlinuz, "rb") as f:
                blob = find_btf(f.read())
            if blob is None:
                sys.exit(f"userland {args.arch}: no BTF in {vmlinuz}")
            with open(args.btf + ".tmp", "wb") as f:
                f.write(blob)
            os.rename(args.btf + ".tmp", args.btf)
            log("userland", f"{args.btf}: vmlinux BTF of {release} ({len(blob)} bytes)", always=True)
    except Failure as e:
        sys.exit(f"userland {args.arch}: {e}")
    print(tree)
    return 0
