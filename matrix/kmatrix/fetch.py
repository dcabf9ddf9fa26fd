"""Downloaded kernel packages, extracted once into the cache, and the files a boot needs in them."""

import json
import os
import shutil
import subprocess

from .common import Failure, log, run


def fetch(apt, cache, tag, res):
    """Download and extract RES into the cache; returns (tree, was_cached)."""
    tree = os.path.join(cache, "kernels", f"{res['image']}_{res['version']}")
    manifest = os.path.join(tree, "packages.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            have = json.load(f)
        if not have.get("pool"):
            log(tag, f"kernel {res['image']} {res['version']}: cached ({tree})")
            return tree, True
        shutil.rmtree(tree)  # extracted by an older run.py from unverified pool downloads: fetch again
    debs = os.path.join(cache, "debs", res["image"])
    partial = tree + ".partial"
    shutil.rmtree(debs, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
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
    shutil.rmtree(debs)
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
