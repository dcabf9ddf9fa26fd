"""Downloaded kernel packages, extracted once into the cache, and the files a boot needs in them."""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess

from .common import Failure, log, run


@contextlib.contextmanager
def package_lock(path):
    """Holds an exclusive flock on PATH: one fetch of a package at a time, across threads (each call
    opens its own file description) and processes sharing the cache. The kernel drops the lock when
    its holder dies, so a killed run never leaves the package locked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            waited = False
        except BlockingIOError:
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = True
        yield waited
    finally:
        os.close(fd)


def cached_tree(tree):
    """True when TREE holds a complete extraction from verified downloads."""
    manifest = os.path.join(tree, "packages.json")
    if not os.path.exists(manifest):
        return False
    with open(manifest) as f:
        have = json.load(f)
    if have.get("pool"):
        shutil.rmtree(tree)  # extracted by an older run.py from unverified pool downloads: fetch again
        return False
    return True


def fetch(apt, cache, tag, res):
    """Download and extract RES into the cache once; returns (tree, was_cached).

    Entries that share a package (7.3 and 7.3-nomod) and runs that share the cache wait for each other
    on the package's lock; the second finds the tree the first extracted. Downloads and extraction go
    to scratch directories that only the lock holder touches and that are removed whatever happens,
    so a failed or killed fetch leaves nothing a later one trips on."""
    name = f"{res['image']}_{res['version']}"
    kernels = os.path.join(cache, "kernels")
    os.makedirs(kernels, exist_ok=True)
    tree = os.path.join(kernels, name)
    debs = os.path.join(cache, "debs", name)
    partial = tree + ".partial"
    with package_lock(tree + ".lock") as waited:
        if cached_tree(tree):
            log(tag, f"kernel {res['image']} {res['version']}: cached ({tree})"
                + ("; extracted by another job meanwhile" if waited else ""))
            return tree, True
        try:
            for scratch in (debs, partial):  # a killed run's leftovers: only the lock holder is here
                shutil.rmtree(scratch, ignore_errors=True)
            try:
                apt.download(res["packages"], debs)
            except subprocess.CalledProcessError as e:
                raise Failure("download-failed", (e.stderr or e.stdout or str(e)).strip()[-2000:])
            os.makedirs(partial)
            for deb in sorted(os.listdir(debs)):
                run(["dpkg-deb", "-x", os.path.join(debs, deb), partial])
            with open(os.path.join(partial, "packages.json"), "w") as f:
                json.dump({"packages": res["packages"], "missing": res["missing"]}, f, indent=1)
            os.rename(partial, tree)
        finally:
            shutil.rmtree(debs, ignore_errors=True)
            shutil.rmtree(partial, ignore_errors=True)
    return tree, False


def locate(tree):
    """vmlinuz, release, modules dir (or None) and config (or None) in an extracted tree.

    Older packages ship boot/vmlinuz-REL and lib/modules/REL; newer ones usr/lib/modules/REL/vmlinuz."""
    def ls(d):
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    boot = os.path.join(tree, "boot")
    candidates = [(os.path.join(boot, f), f[len("vmlinuz-"):]) for f in ls(boot) if f.startswith("vmlinuz-")]
    for base in ("usr/lib/modules", "lib/modules"):
        d = os.path.join(tree, base)
        candidates += [(os.path.join(d, rel, "vmlinuz"), rel) for rel in ls(d)
                       if os.path.exists(os.path.join(d, rel, "vmlinuz"))]
    if not candidates:
        raise Failure("download-failed", f"no vmlinuz in {tree}")
    vmlinuz, release = candidates[0]
    moddir = next((os.path.join(tree, base, release) for base in ("usr/lib/modules", "lib/modules")
                   if os.path.isdir(os.path.join(tree, base, release, "kernel"))
                   or os.path.exists(os.path.join(tree, base, release, "modules.builtin"))), None)
    config = next((c for c in (os.path.join(tree, "boot", f"config-{release}"),
                               moddir and os.path.join(moddir, "config")) if c and os.path.exists(c)), None)
    return vmlinuz, release, moddir, config
