"""apt-get with a private configuration: indexes of the matrix suites, kernel package resolution and
download (every package comes from a signed index)."""

import functools
import os
import re
import subprocess
import threading
import time

from .common import Failure, log, run

DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
INDEX_MAX_AGE_H = 24


def debian_version_cmp(a, b):
    if a == b:
        return 0
    return -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0 else 1


class Apt:
    """apt-get with private sources, state and cache under ROOT (the system's apt is untouched)."""

    def __init__(self, root, suites, mirror, arches=("amd64",)):
        self.root = root
        self.suites = suites
        self.mirror = mirror
        self.arches = list(dict.fromkeys(["amd64", *arches]))
        self._index, self._targets, self.update_error = {}, None, None
        self._download_lock = threading.Lock()  # one apt-get download at a time with --jobs
        self._index_lock = threading.Lock()  # the index is read once, by whichever job asks first
        for d in ("state/lists/partial", "cache/archives/partial", "sources.list.d"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        self.sources = os.path.join(root, "sources.list")
        self.stamp = os.path.join(root, "updated.stamp")
        self.opts = []
        for k, v in [("Dir::Etc::SourceList", self.sources),
                     ("Dir::Etc::SourceParts", os.path.join(root, "sources.list.d")),
                     ("Dir::State", os.path.join(root, "state")),
                     ("Dir::State::status", "/dev/null"),
                     ("Dir::Cache", os.path.join(root, "cache")),
                     ("APT::Architecture", "amd64"), ("APT::Architectures", ",".join(self.arches)),
                     ("Acquire::Languages", "none"), ("APT::Sandbox::User", "root")]:
            self.opts += ["-o", f"{k}={v}"]

    def update(self, refresh):
        arch = ",".join(self.arches)
        text = "".join(f"deb [signed-by={KEYRING} arch={arch}] {self.mirror} {s} main\n" for s in self.suites)
        old = open(self.sources).read() if os.path.exists(self.sources) else None
        age_h = (time.time() - os.path.getmtime(self.stamp)) / 3600 if os.path.exists(self.stamp) else None
        if not refresh and old == text and age_h is not None and age_h < INDEX_MAX_AGE_H:
            log("apt", f"index cached (age {age_h:.1f} h; refreshed after {INDEX_MAX_AGE_H} h or with --refresh)")
            return
        with open(self.sources, "w") as f:
            f.write(text)
        t = time.monotonic()
        p = subprocess.run(["apt-get", "-qq"] + self.opts + ["update"], text=True, capture_output=True)
        if p.returncode != 0:  # other suites may still be usable; kernels of a broken one fail
            self.update_error = (p.stderr or p.stdout).strip()
            log("apt", f"apt-get update failed (rc={p.returncode}):\n{self.update_error}", always=True)
            return
        open(self.stamp, "w").close()
        log("apt", f"index updated for {', '.join(self.suites)} in {time.monotonic() - t:.1f} s", always=True)

    def packages(self, suite, arch="amd64", names=()):
        """{package: {field: value}} for the linux-* packages of SUITE's Packages index for ARCH, and
        the packages NAMES (the guest userland of a foreign architecture, kmatrix/userland.py)."""
        with self._index_lock:
            return self._packages(suite, arch, frozenset(names))

    def _packages(self, suite, arch, names):
        key = (suite, arch, names)
        if key in self._index:
            return self._index[key]
        if self._targets is None:  # one call: apt-get rebuilds its package cache on every start
            self._targets = {}
            for line in run(["apt-get"] + self.opts + ["indextargets", "--format",
                                                       "$(CODENAME) $(ARCHITECTURE) $(FILENAME)",
                                                       "Identifier: Packages"]).stdout.splitlines():
                codename, index_arch, filename = line.split(" ", 2)
                self._targets.setdefault((codename, index_arch), []).append(filename)
        out = self._targets.get((suite, arch))
        if not out:
            raise Failure("resolve-failed", f"no {arch} Packages index for suite {suite}"
                          + (f" (apt-get update: {self.update_error})" if self.update_error else ""))
        pkgs = {}
        for filename in out:
            # one pipe only: communicate() then reads in one go (two pipes poll in 32 KiB steps)
            text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", filename], check=True,
                                  stdout=subprocess.PIPE).stdout.decode("utf-8", "replace")
            for stanza in text.split("\n\n"):
                if not stanza.startswith("Package: linux-") and (
                        not names or stanza.split("\n", 1)[0][len("Package: "):] not in names):
                    continue  # only kernel packages (and the asked-for NAMES) matter here
                fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
                if "Package" in fields:
                    name = fields["Package"]
                    if name not in pkgs or debian_version_cmp(pkgs[name]["Version"], fields["Version"]) < 0:
                        pkgs[name] = fields
        self._index[key] = pkgs
        return pkgs

    def download(self, pkgs, dest):
        os.makedirs(dest, exist_ok=True)
        with self._download_lock:
            run(["apt-get", "-qq"] + self.opts + ["download"] + [f"{n}={v}" for n, v in pkgs], cwd=dest)


def resolve(apt, entry):
    """Newest image package of the entry's series, and the packages to download with it."""
    flavour = re.escape(entry["flavour"])
    pattern = re.compile(rf"^linux-image-([0-9][0-9.]*(?:-[0-9]+)?(?:\+deb[0-9.]+)?)-{flavour}$")
    series = entry["series"]
    pkgs = apt.packages(entry["suite"], entry["arch"])
    found = []
    for name, fields in pkgs.items():
        m = pattern.match(name)
        if m and (m.group(1) == series or m.group(1).startswith((series + ".", series + "-"))):
            found.append((fields["Version"], name, m.group(1)))
    if not found:
        raise Failure("resolve-failed", f"no linux-image-{series}*-{entry['flavour']} in {entry['suite']}")
    found.sort(key=functools.cmp_to_key(lambda a, b: debian_version_cmp(a[0], b[0])))
    version, image, abi = found[-1]
    download, missing = [(image, version)], []
    # Newer kernels split the image: linux-image-X is a meta package depending on
    # linux-binary-X (the bzImage), linux-modules-X and linux-base-X (config, modules.builtin).
    deps = re.findall(r"(linux-(?:binary|modules|base)-[^\s,(]+)", pkgs[image].get("Depends", ""))
    for dep in deps:
        if dep in pkgs:
            download.append((dep, pkgs[dep]["Version"]))
        else:
            missing.append(dep)
    return {"image": image, "version": version, "abi": abi, "packages": download, "missing": missing}
