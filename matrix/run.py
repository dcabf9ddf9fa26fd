#!/usr/bin/env python3
"""Boot Debian kernels under QEMU (TCG) and run the bpfprobe payload in each.

For every kernel in matrix/kernels.txt (or the --kernels subset):
  resolve   newest Debian package of the series, via a private apt configuration
  fetch     apt-get download + dpkg-deb -x into the cache (skipped when cached)
  initramfs busybox-static, payload + shared libraries, bpftool, kernel modules, /init
  boot      qemu-system-x86_64 -accel tcg; /init writes framed results to the 2nd serial port
  collect   results parsed back into --out/<kernel>/, summary in --out/summary.json

Standard library only. Needs apt-get, dpkg-deb, ldd, qemu-system-x86_64 and busybox-static.
"""

import argparse
import base64
import concurrent.futures
import fnmatch
import functools
import gzip
import json
import lzma
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402
import grid  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Built as modules by Debian, needed by probes and tests in the guest. nf_defrag_*: netfilter links
# with BPF_F_NETFILTER_IP_DEFRAG (the kernel would request_module() them; the guest has no modprobe).
DEFAULT_MODULES = ["sch_ingress", "cls_bpf", "act_bpf", "veth", "dummy", "netkit", "nf_defrag_ipv4", "nf_defrag_ipv6"]
INDEX_MAX_AGE_H = 24
GUEST_BIN = "/opt/bpfprobe/bin"
GUEST_TESTS = "/opt/bpfprobe/tests"

_log_lock = threading.Lock()
VERBOSE = False
_logs = {}  # tag -> lines, saved as OUT/<kernel>/run.log


def log(tag, msg, always=False):
    """Progress line: kept for the kernel's run.log, printed with --verbose (or when ALWAYS)."""
    with _log_lock:
        _logs.setdefault(tag, []).append(msg)
        if always or VERBOSE:
            print(f"[{tag}] {msg}", flush=True)


class Failure(Exception):
    """A per-kernel failure: status (e.g. 'download-failed') and a reason."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


# --------------------------------------------------------------------------- kernel list

def load_kernel_list(path):
    entries = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) < 3:
                sys.exit(f"{path}:{lineno}: expected NAME SUITE SERIES [key=value ...]")
            opts = dict(w.split("=", 1) for w in words[3:])
            entries.append({"name": words[0], "suite": words[1], "series": words[2],
                            "flavour": opts.get("flavour", "amd64"),
                            "modules_optional": opts.get("modules") == "optional",
                            "no_modules": opts.get("modules") == "none",
                            "from_pool": opts.get("missing") == "pool"})
    return entries


# --------------------------------------------------------------------------- apt

def debian_version_cmp(a, b):
    if a == b:
        return 0
    return -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0 else 1


class Apt:
    """apt-get with private sources, state and cache under ROOT (the system's apt is untouched)."""

    def __init__(self, root, suites, mirror):
        self.root = root
        self.suites = suites
        self.mirror = mirror
        self._index, self._targets, self.update_error = {}, None, None
        self._download_lock = threading.Lock()  # one apt-get download at a time with --jobs
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
                     ("APT::Architecture", "amd64"), ("APT::Architectures", "amd64"),
                     ("Acquire::Languages", "none"), ("APT::Sandbox::User", "root")]:
            self.opts += ["-o", f"{k}={v}"]

    def update(self, refresh):
        text = "".join(f"deb [signed-by={KEYRING}] {self.mirror} {s} main\n" for s in self.suites)
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

    def packages(self, suite):
        """{package: {field: value}} for the linux-* packages of SUITE's Packages index."""
        if suite in self._index:
            return self._index[suite]
        if self._targets is None:  # one call: apt-get rebuilds its package cache on every start
            self._targets = {}
            for line in run(["apt-get"] + self.opts + ["indextargets", "--format", "$(CODENAME) $(FILENAME)",
                                                       "Identifier: Packages"]).stdout.splitlines():
                codename, filename = line.split(" ", 1)
                self._targets.setdefault(codename, []).append(filename)
        out = self._targets.get(suite)
        if not out:
            raise Failure("resolve-failed", f"no Packages index for suite {suite}"
                          + (f" (apt-get update: {self.update_error})" if self.update_error else ""))
        pkgs = {}
        for filename in out:
            # one pipe only: communicate() then reads in one go (two pipes poll in 32 KiB steps)
            text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", filename], check=True,
                                  stdout=subprocess.PIPE).stdout.decode("utf-8", "replace")
            for stanza in text.split("\n\n"):
                if not stanza.startswith("Package: linux-"):  # only kernel packages matter here
                    continue
                fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
                if "Package" in fields:
                    name = fields["Package"]
                    if name not in pkgs or debian_version_cmp(pkgs[name]["Version"], fields["Version"]) < 0:
                        pkgs[name] = fields
        self._index[suite] = pkgs
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
    pkgs = apt.packages(entry["suite"])
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
    pool = []
    if entry.get("from_pool"):  # the image's Depends pins the exact version: (= 7.0.13-1~bpo13+1)
        for dep in missing:
            pool.append((dep, version))
        missing = []
    return {"image": image, "version": version, "abi": abi, "packages": download, "missing": missing,
            "pool": pool}


# --------------------------------------------------------------------------- fetch and locate

def download_from_pool(mirror, name, version, dest):
    """A package the suite's index no longer lists (Debian dropped trixie-backports' linux-modules-7.0.*
    while it still lists the signed 7.0 images) from the mirror's pool, where it stays while any suite
    references its source. Not verified against a signed index: the kernel's module loader checks that
    each module matches the booted kernel (vermagic, module BTF against vmlinux BTF)."""
    file = f"{name}_{version.split(':', 1)[-1]}_amd64.deb"
    url = f"{mirror}/pool/main/l/linux/{urllib.parse.quote(file)}"
    try:
        with urllib.request.urlopen(url, timeout=120) as r, open(os.path.join(dest, file), "wb") as out:
            shutil.copyfileobj(r, out)
    except OSError as e:
        raise Failure("download-failed", f"{name} {version} is in no index and not in the pool ({url}: {e})")
    log("fetch", f"{name} {version}: not in the index, taken from the pool (unverified): {url}", always=True)


def fetch(apt, cache, tag, res):
    """Download and extract RES into the cache; returns (tree, was_cached)."""
    tree = os.path.join(cache, "kernels", f"{res['image']}_{res['version']}")
    manifest = os.path.join(tree, "packages.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            have = json.load(f)
        if [list(p) for p in have.get("pool", [])] == [list(p) for p in res.get("pool", [])]:
            log(tag, f"kernel {res['image']} {res['version']}: cached ({tree})")
            return tree, True
        shutil.rmtree(tree)  # the entry now takes packages from the pool: fetch again
    debs = os.path.join(cache, "debs", res["image"])
    partial = tree + ".partial"
    shutil.rmtree(debs, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
    try:
        apt.download(res["packages"], debs)
    except subprocess.CalledProcessError as e:
        raise Failure("download-failed", (e.stderr or e.stdout or str(e)).strip()[-2000:])
    for name, version in res.get("pool", []):
        download_from_pool(apt.mirror, name, version, debs)
    os.makedirs(partial)
    for deb in sorted(os.listdir(debs)):
        run(["dpkg-deb", "-x", os.path.join(debs, deb), partial])
    with open(os.path.join(partial, "packages.json"), "w") as f:
        json.dump({"packages": res["packages"], "missing": res["missing"], "pool": res.get("pool", [])}, f, indent=1)
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


def kernel_version(release):
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def config_value(config, key):
    if not config:
        return None
    with open(config) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return "n"


# --------------------------------------------------------------------------- modules

MOD_SUFFIX = re.compile(r"\.ko(\.xz|\.zst|\.gz)?$")


def modname(path):
    return MOD_SUFFIX.sub("", os.path.basename(path)).replace("-", "_")


def read_module(path):
    """The module's ELF bytes, decompressed on the host (busybox insmod takes plain .ko)."""
    if path.endswith(".xz"):
        return lzma.decompress(open(path, "rb").read())
    if path.endswith(".gz"):
        return gzip.decompress(open(path, "rb").read())
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
    return open(path, "rb").read()


def modinfo_depends(elf):
    """Module names from the 'depends=' entry of the ELF .modinfo section."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = sections[shstrndx][4]
    for sh in sections:
        name = elf[strtab + sh[0]:elf.index(b"\0", strtab + sh[0])]
        if name == b".modinfo":
            for entry in elf[sh[4]:sh[4] + sh[5]].split(b"\0"):
                if entry.startswith(b"depends="):
                    return [d.replace("-", "_") for d in entry[8:].decode().split(",") if d]
    return []


def plan_modules(moddir, wanted):
    """Modules to insmod in dependency order, plus which wanted ones are builtin or missing.

    Debian packages ship no modules.dep (depmod runs at install time), so dependencies are
    read from each module's own .modinfo 'depends=' (the data depmod itself starts from)."""
    plan = {"load": [], "builtin": [], "missing": []}
    if moddir is None:
        plan["missing"] = list(wanted)
        return plan, {}
    builtin = set()
    bfile = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bfile):
        builtin = {modname(l.strip()) for l in open(bfile) if l.strip()}
    index = {}
    for dirpath, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if MOD_SUFFIX.search(f):
                index[modname(f)] = os.path.join(dirpath, f)
    blobs = {}

    def visit(name, chain):
        if name in blobs or name in builtin or name in chain:
            return
        elf = read_module(index[name])
        for dep in modinfo_depends(elf):
            if dep in index:
                visit(dep, chain + [name])
        blobs[name] = elf
        plan["load"].append(name)

    for name in wanted:
        if name in builtin:
            plan["builtin"].append(name)
        elif name in index:
            visit(name, [])
        else:
            plan["missing"].append(name)
    return plan, blobs


# --------------------------------------------------------------------------- initramfs

class Cpio:
    """A newc archive assembled in memory from host files, bytes, symlinks and device nodes."""

    def __init__(self):
        self.entries = {}

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), (stat.S_IFDIR | 0o755, b""))

    def dir(self, path):
        self._parents(path + "/x")

    def data(self, path, blob, mode=0o755):
        self._parents(path)
        self.entries[path.strip("/")] = (stat.S_IFREG | mode, blob)

    def file(self, path, host_path):
        with open(host_path, "rb") as f:
            self.data(path, f.read(), stat.S_IMODE(os.stat(host_path).st_mode) | 0o444)

    def symlink(self, path, target):
        self._parents(path)
        self.entries.setdefault(path.strip("/"), (stat.S_IFLNK | 0o777, target.encode()))

    def node(self, path, major, minor):
        self._parents(path)
        self.entries[path.strip("/")] = (stat.S_IFCHR | 0o600, (major, minor))

    def write(self, out_path):
        with open(out_path, "wb") as out:
            def put(name, mode, blob, rdev=(0, 0), ino=0):
                name_b = name.encode() + b"\0"
                hdr = "070701" + "".join(f"{v:08x}" for v in (
                    ino, mode, 0, 0, 1, 0, len(blob), 0, 0, rdev[0], rdev[1], len(name_b), 0))
                out.write(hdr.encode() + name_b + b"\0" * ((-len(hdr) - len(name_b)) % 4))
                out.write(blob + b"\0" * (-len(blob) % 4))
            for ino, (name, (mode, blob)) in enumerate(sorted(self.entries.items()), 1):
                if stat.S_ISCHR(mode):
                    put(name, mode, b"", rdev=blob, ino=ino)
                else:
                    put(name, mode, blob, ino=ino)
            put("TRAILER!!!", 0, b"")


def shared_libs(binary):
    """Host paths of the shared libraries and loader BINARY needs ([] when static or a script)."""
    p = subprocess.run(["ldd", binary], text=True, capture_output=True)
    if p.returncode != 0:
        return []
    libs = []
    for line in p.stdout.splitlines():
        if "not found" in line:
            raise Failure("payload-error", f"{binary}: {line.strip()}")
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def add_program(cpio, guest_path, host_path, stripped=None):
    """HOST_PATH at GUEST_PATH (its debug-info-free copy from STRIPPED when there is one), with its
    shared libraries at their host paths."""
    cpio.file(guest_path, (stripped or {}).get(host_path, host_path))
    for lib in shared_libs(host_path):
        if lib.strip("/") not in cpio.entries:
            cpio.file(lib, lib)


INIT = r"""#!/bin/sh
# Generated by matrix/run.py: sets up the guest, runs the payload, reports on /dev/ttyS1.
export PATH=@BIN@:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
export BPFPROBE=@BIN@/bpfprobe BPFPROBE_CLI=@BIN@/bpfprobe
OUT=/dev/ttyS1
LIMIT=@LIMIT@
mkdir -p /proc && mount -t proc proc /proc
BOOTED=$(cut -d' ' -f1 /proc/uptime)  # seconds from kernel start to /init

fs() {  # fstype mountpoint
    mkdir -p "$2" 2>/dev/null
    if mount -t "$1" "$1" "$2" 2>/tmp/err; then echo "mount $1 $2: ok"
    else echo "mount $1 $2: FAILED $(cat /tmp/err)"; fi
}

setup() {
    grep -q ' /proc proc ' /proc/mounts && echo "mount proc /proc: ok" || fs proc /proc
    fs sysfs /sys; fs devtmpfs /dev  # / is the writable initramfs: no tmpfs needed
    fs bpf /sys/fs/bpf; fs tracefs /sys/kernel/tracing; fs debugfs /sys/kernel/debug
    fs securityfs /sys/kernel/security; fs cgroup2 /sys/fs/cgroup
    ip link set lo up && echo "lo: up" || echo "lo: FAILED"
    while read -r name file; do
        if insmod "$file" 2>/tmp/err; then echo "module $name: loaded"
        else echo "module $name: FAILED $(cat /tmp/err)"; fi
    done < /etc/bpfprobe/modules.list
}

emit() {  # section rc file -- one framed, base64-encoded section on the results port
    { echo "===BEGIN $1==="; base64 < "$3"; echo "===END $1 rc=$2==="; } > $OUT
}

now() { cut -d' ' -f1 /proc/uptime; }
stamp() {  # name start -- guest seconds for one step, collected in times.txt
    echo "$1 $2 $(now)" >> /tmp/times.txt
}

facts() {
    echo "release: $(uname -r)"
    echo "cmdline: $(cat /proc/cmdline)"
    for f in /sys/kernel/btf/vmlinux /proc/sys/kernel/unprivileged_bpf_disabled \
             /proc/sys/net/core/bpf_jit_enable /sys/kernel/security/lockdown; do
        if [ -e "$f" ]; then
            case "$f" in */vmlinux) echo "$f: present";; *) echo "$f: $(cat $f)";; esac
        else echo "$f: absent"; fi
    done
    echo "module btf: $(ls /sys/kernel/btf | grep -v '^vmlinux$' | tr '\n' ' ')"
    echo "loaded modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
}

stty -F $OUT raw -echo 2>/dev/null
echo "boot 0 $BOOTED" > /tmp/times.txt
t=$(now); setup > /tmp/setup.log 2>&1; stamp setup $t
emit setup.log 0 /tmp/setup.log
uname -r > /tmp/o; emit uname.txt $? /tmp/o
facts > /tmp/o 2>&1; emit facts.txt 0 /tmp/o

echo "matrix: bpftool feature probe"
t=$(now)
timeout -s KILL $LIMIT bpftool -j feature probe kernel full > /tmp/o 2> /tmp/e; rc=$?
stamp bpftool $t
emit bpftool.json $rc /tmp/o; emit bpftool.stderr $rc /tmp/e
if [ -x @BIN@/bpfprobe ]; then
    echo "matrix: bpfprobe --report --json"
    t=$(now)
    timeout -s KILL $LIMIT bpfprobe --report --json > /tmp/o 2> /tmp/e; rc=$?
    stamp bpfprobe $t
    emit report.json $rc /tmp/o; emit report.stderr $rc /tmp/e
fi
# tests.list: NAME<TAB>gtest filter (empty: all tests)
while IFS='	' read -r name filter; do
    t=$(now)
    echo "matrix: test $name ${filter:+--gtest_filter=$filter}"
    rm -f /tmp/gtest.json
    (cd /tmp && timeout -s KILL $LIMIT @TESTS@/$name --gtest_output=json:/tmp/gtest.json \
        ${filter:+--gtest_filter=$filter} < /dev/null) > /tmp/o 2>&1; rc=$?
    stamp "test:$name" $t
    emit "tests/$name.log" $rc /tmp/o
    [ -f /tmp/gtest.json ] && emit "tests/$name.json" $rc /tmp/gtest.json
done < /etc/bpfprobe/tests.list
emit times.txt 0 /tmp/times.txt
echo "===DONE===" > $OUT
echo "matrix: done, powering off"
poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
"""

# Host programs the tests run whose busybox applets lack options they use, at the same path (PATH
# in the guest puts /usr/bin before busybox's /bin). setpriv: --reuid/--regid for unprivileged runs.
HOST_TOOLS = ("/usr/bin/setpriv",)

# Source files tests may read through their compiled-in BPFPROBE_SOURCE_DIR (facts tables, exception
# lists, fixtures): mirrored into the guest at the same absolute path.
SOURCE_DATA_DIRS = ("probes", "tests", "matrix")
SOURCE_DATA_EXT = (".tsv", ".json", ".txt", ".md", ".csv")


def build_initramfs(path, release, moddir, config, modules, payload, test_timeout, tests):
    """Write the guest cpio to PATH; returns the module plan. TESTS: [(name, gtest filter)]."""
    cpio = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc/bpfprobe"):
        cpio.dir(d)
    cpio.node("dev/console", 5, 1)
    busybox = "/bin/busybox"
    if not os.path.exists(busybox) or shared_libs(busybox):
        raise Failure("payload-error", "/bin/busybox must be busybox-static")
    cpio.file("bin/busybox", busybox)
    for applet in run([busybox, "--list-full"]).stdout.split():
        cpio.symlink(applet, "/bin/busybox")
    add_program(cpio, "usr/sbin/bpftool", payload["bpftool"])
    for tool in HOST_TOOLS:
        if os.path.exists(tool):
            add_program(cpio, tool.lstrip("/"), tool)
    if payload["bpfprobe"]:
        add_program(cpio, f"{GUEST_BIN}/bpfprobe", payload["bpfprobe"], payload["stripped"])
    wanted = {name for name, _ in tests}
    for t in payload["tests"]:
        if os.path.basename(t) in wanted:
            add_program(cpio, f"{GUEST_TESTS}/{os.path.basename(t)}", t, payload["stripped"])
    cpio.dir(GUEST_TESTS)
    cpio.data("etc/bpfprobe/tests.list", "".join(f"{n}\t{f}\n" for n, f in tests).encode(), 0o644)
    for host in payload.get("source_data", []):
        cpio.file(host, host)
    if config:  # lets bpftool report the kernel config section
        cpio.file(f"boot/config-{release}", config)
    plan, blobs = plan_modules(moddir, modules)
    listing = ""
    for name in plan["load"]:
        cpio.data(f"lib/modules/{release}/{name}.ko", blobs[name], 0o644)
        listing += f"{name} /lib/modules/{release}/{name}.ko\n"
    cpio.data("etc/bpfprobe/modules.list", listing.encode(), 0o644)
    init = (INIT.replace("@BIN@", GUEST_BIN).replace("@TESTS@", GUEST_TESTS)
            .replace("@LIMIT@", str(test_timeout)))
    cpio.data("init", init.encode())
    cpio.write(path)
    return plan


# --------------------------------------------------------------------------- boot and collect

def boot(vmlinuz, initrd, kdir, timeout, accel="tcg", cpu="qemu64"):
    """Run QEMU; returns (exited_in_time, qemu_returncode)."""
    console, serial = os.path.join(kdir, "console.log"), os.path.join(kdir, "serial.log")
    for f in (console, serial):
        if os.path.exists(f):
            os.remove(f)
    accel_args = [a for name in accel.split(":") for a in ("-accel", name)]  # "kvm:tcg": KVM, else TCG
    cmd = ["qemu-system-x86_64"] + accel_args + ["-cpu", cpu, "-m", "1G", "-smp", "1",
           "-nic", "none", "-no-reboot", "-nographic", "-monitor", "none",
           "-kernel", vmlinuz, "-initrd", initrd,
           "-append", "console=ttyS0 panic=-1 quiet",
           "-serial", f"file:{console}", "-serial", f"file:{serial}"]
    with open(os.path.join(kdir, "qemu.log"), "w") as qlog:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        try:
            return True, proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False, None


def collect(kdir):
    """Parse serial.log into files under KDIR; returns ({section: rc}, saw_done)."""
    sections, done, name, body = {}, False, None, []
    path = os.path.join(kdir, "serial.log")
    text = open(path, "rb").read().decode("ascii", "replace") if os.path.exists(path) else ""
    for line in text.replace("\r", "").split("\n"):
        if line == "===DONE===":
            done = True
        elif name is None and line.startswith("===BEGIN ") and line.endswith("==="):
            name, body = line[9:-3], []
        elif name is not None and line.startswith(f"===END {name} rc="):
            target = os.path.normpath(os.path.join(kdir, name))
            if target.startswith(kdir + os.sep):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(base64.b64decode("".join(body)))
                sections[name] = int(line.rsplit("rc=", 1)[1].rstrip("="))
            name = None
        elif name is not None:
            body.append(line)
    return sections, done


def tail(path, n=30):
    if not os.path.exists(path):
        return "(no console log)"
    lines = open(path, "rb").read().decode("utf-8", "replace").replace("\r", "").splitlines()
    return "\n".join(lines[-n:])


# --------------------------------------------------------------------------- tests in the guest

def load_test_rules(path):
    """Rows of matrix/tests.tsv: (kernel pattern, executable glob, filter, reason)."""
    rows = []
    if os.path.exists(path):
        for lineno, line in enumerate(open(path), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.rstrip("\n").split("\t") if c.strip()]
            if len(cells) != 4:
                sys.exit(f"{path}:{lineno}: expected kernel, executable, filter, reason (tab-separated)")
            rows.append(cells)
    return rows


def plan_tests(rules, name, release, executables):
    """[(executable name, gtest filter)] for one kernel, and {executable: skip reason}.

    A rule's filter `*` leaves the executable out; anything else is a gtest pattern list excluded
    from the run (joined into one negative --gtest_filter)."""
    version = expect.parse_version(release) or (0, 0)
    plan, skipped = [], {}
    for exe in executables:
        base = os.path.basename(exe)
        excluded = []
        for k, pattern, filt, reason in rules:
            if not (fnmatch.fnmatchcase(base, pattern) and expect.Exceptions.kernel_matches(k, name, version)):
                continue
            if filt == "*":
                skipped[base] = reason
                break
            excluded.append(filt)
        if base not in skipped:
            plan.append((base, "-" + ":".join(excluded) if excluded else ""))
    return plan, skipped


def test_counts(kdir, name, rc):
    """{passed, failed, skipped, rc, failures: [names]} from the gtest JSON (or the log if none)."""
    out = {"passed": 0, "failed": 0, "skipped": 0, "rc": rc, "failures": []}
    path = os.path.join(kdir, "tests", f"{name}.json")
    try:
        data = json.load(open(path))
        for suite in data.get("testsuites", []):
            for t in suite.get("testsuite", []):
                full = f"{suite['name']}.{t['name']}"
                if t.get("failures"):
                    out["failed"] += 1
                    out["failures"].append(full)
                elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                    out["skipped"] += 1
                else:
                    out["passed"] += 1
    except (OSError, ValueError):
        out["note"] = "no gtest JSON (the binary crashed or was killed)"
    if rc != 0 and not out["failed"]:
        out["failed"] += 1
        out["failures"].append(f"(exit status {rc})")
    return out


def guest_times(kdir):
    """{step: seconds} from the guest's times.txt (boot: kernel start to /init)."""
    times = {}
    path = os.path.join(kdir, "times.txt")
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) == 3:
                try:
                    times[parts[0]] = round(float(parts[2]) - float(parts[1]), 1)
                except ValueError:
                    pass
    return times


# --------------------------------------------------------------------------- per kernel

def run_kernel(apt, args, entry, payload):
    tag = entry["name"]
    kdir = os.path.join(args.out, tag)
    shutil.rmtree(kdir, ignore_errors=True)
    os.makedirs(kdir)
    result = {"name": tag, "suite": entry["suite"], "series": entry["series"],
              "flavour": entry["flavour"], "status": "ok", "reason": None, "warnings": [],
              "packages": [], "times": {}}
    try:
        res = entry["resolved"]
        result["packages"] = [{"name": n, "version": v} for n, v in res["packages"]]
        result["version"] = res["version"]
        for name, version in res.get("pool", []):
            result["packages"].append({"name": name, "version": version, "from": "pool"})
            result["warnings"].append(f"{name} is not in {entry['suite']}'s index: taken from the pool, unverified")
        for dep in res["missing"]:
            if "-modules-" in dep and entry["modules_optional"]:
                result["warnings"].append(f"{dep} is not in {entry['suite']}: booting without modules")
            elif "-base-" in dep:
                result["warnings"].append(f"{dep} is not in {entry['suite']}: no kernel config")
            else:
                raise Failure("download-failed", f"{dep} (needed by {res['image']}) is not in {entry['suite']}")
        t = time.monotonic()
        tree, cached = fetch(apt, args.cache, tag, res)
        result["times"]["download"] = round(time.monotonic() - t, 1)
        result["cached"] = cached
        vmlinuz, release, moddir, config = locate(tree)
        result["release"] = release
        result["config_debug_info_btf"] = config_value(config, "CONFIG_DEBUG_INFO_BTF")
        if result["config_debug_info_btf"] not in (None, "y"):
            result["warnings"].append("kernel config lacks CONFIG_DEBUG_INFO_BTF=y")

        tests, skipped = plan_tests(payload["test_rules"], tag, release, payload["tests"])
        result["tests_skipped"] = skipped
        result["tests_filter"] = {n: f for n, f in tests if f}
        t = time.monotonic()
        initrd = os.path.join(kdir, "initramfs.cpio")
        modules = [] if entry["no_modules"] else args.modules
        plan = build_initramfs(initrd, release, moddir, config, modules, payload, args.test_timeout, tests)
        result["modules"] = plan
        result["times"]["initramfs"] = round(time.monotonic() - t, 1)
        result["initramfs_mb"] = round(os.path.getsize(initrd) / 2**20, 1)
        for name in plan["missing"] if moddir else []:
            if name != "netkit" or kernel_version(release) >= (6, 7):  # netkit is new in 6.7
                result["warnings"].append(f"module {name} not found")
        log(tag, f"initramfs {result['initramfs_mb']} MB in {result['times']['initramfs']} s; "
                 f"modules: load {plan['load']} builtin {plan['builtin']} missing {plan['missing']}")

        t = time.monotonic()
        in_time, rc = boot(vmlinuz, initrd, kdir, args.timeout, args.accel, args.cpu)
        result["times"]["qemu"] = round(time.monotonic() - t, 1)
        result["qemu_rc"] = rc
        sections, done = collect(kdir)
        result["sections"] = sections
        result["guest_times"] = guest_times(kdir)
        if not args.keep_initramfs:
            os.remove(initrd)
        if not in_time:
            raise Failure("timeout", f"guest did not finish within {args.timeout} s")
        if not sections:
            raise Failure("boot-failed", f"qemu exited (rc={rc}) before the guest reported anything")
        if not done:
            raise Failure("crashed", f"qemu exited (rc={rc}) after {list(sections)[-1]}, before ===DONE===")
        setup = open(os.path.join(kdir, "setup.log")).read() if "setup.log" in sections else ""
        for line in setup.splitlines():
            if "FAILED" in line:
                result["warnings"].append(line)
        result["tests"] = {n: test_counts(kdir, n, sections.get(f"tests/{n}.log", -1)) for n, _ in tests}
        bad = [s for s, rc in sections.items()
               if rc != 0 and not s.endswith(".stderr") and not s.startswith("tests/")]
        if payload["bpfprobe"] and "report.json" not in sections:
            bad.append("report.json (missing)")
        if bad:
            raise Failure("payload-failed", "non-zero exit: " + ", ".join(f"{s} rc={sections.get(s, '-')}" for s in bad))
    except Failure as e:
        result["status"], result["reason"] = e.status, str(e)
    except subprocess.CalledProcessError as e:
        result["status"], result["reason"] = "error", f"{' '.join(e.cmd)}: {(e.stderr or '').strip()[-500:]}"
    except Exception as e:  # report, never lose the other kernels
        result["status"], result["reason"] = "error", f"{type(e).__name__}: {e}"
    for w in result["warnings"]:
        log(tag, f"warning: {w}")
    if result["status"] != "ok":
        log(tag, f"{result['status'].upper()}: {result['reason']}", always=True)
        if result["status"] in ("timeout", "boot-failed", "crashed", "payload-failed"):
            log(tag, "console tail:\n" + tail(os.path.join(kdir, "console.log")), always=True)
    g = result.get("guest_times", {})
    log(tag, f"{'booted' if result['status'] == 'ok' else result['status']}: {result.get('release', '?')} "
             f"qemu {result['times'].get('qemu', '-')} s (kernel boot {g.get('boot', '-')} s, "
             f"bpfprobe {g.get('bpfprobe', '-')} s)", always=True)
    return result


def apply_checks(args, results, payload):
    """Expectations, bpftool cross-check and test counts for every kernel that ran; sets statuses."""
    ran = [r for r in results if r.get("sections")]
    reports = []
    for r in ran:
        try:
            reports.append(json.load(open(os.path.join(args.out, r["name"], "report.json"))))
        except (OSError, ValueError):
            pass
    first_kernels = expect.known_first_kernels(reports)
    exc, bexc = expect.load_exceptions()
    seen = []
    for r in ran:
        kdir = os.path.join(args.out, r["name"])
        checks = expect.check_kernel(kdir, r["name"], first_kernels, exc, bexc)
        if not payload["bpfprobe"]:
            checks["expectations"] = {"failures": [], "excepted": [], "note": "no bpfprobe in the payload"}
            checks["bpftool"] = {"failures": [], "excepted": [], "note": "no bpfprobe in the payload"}
        r["checks"] = {k: checks[k] for k in ("expectations", "bpftool")}
        r["upstream_version"] = checks["version"]
        if checks["version"]:
            seen.append((r["name"], expect.parse_version(checks["version"])))
        problems = []
        failed_tests = {n: c for n, c in r.get("tests", {}).items() if c["failed"]}
        if failed_tests:
            problems.append(("tests-failed", "failed tests: " + "; ".join(
                f"{n}: {', '.join(c['failures'][:5])}" + (" …" if len(c["failures"]) > 5 else "")
                for n, c in failed_tests.items())))
        for check, status in (("expectations", "expectations-failed"), ("bpftool", "bpftool-mismatch")):
            n = len(r["checks"][check]["failures"])
            if n:
                problems.append((status, f"{n} {check} failure{'s' if n > 1 else ''}"))
        if problems and r["status"] == "ok":
            r["status"] = problems[0][0]
            r["reason"] = "; ".join(p[1] for p in problems)
        with open(os.path.join(kdir, "result.json"), "w") as f:
            json.dump(r, f, indent=1)
    return exc.unused(seen) + bexc.unused(seen)


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
               "source_data": source_data(build)}
    payload["stripped"] = strip_copies(args.out, [payload["bpfprobe"]] + payload["tests"])
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


def strip_copies(out, binaries):
    """{host path: copy without debug info} (RelWithDebInfo binaries are mostly DWARF)."""
    strip = shutil.which("strip")
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


def expected_seconds(out):
    """Sort key: a kernel's guest time in the previous run in OUT, else its version (newer kernels
    take longer under TCG)."""
    previous = {}
    try:
        for k in json.load(open(os.path.join(out, "summary.json"))).get("kernels", []):
            previous[k["name"]] = k.get("times", {}).get("qemu")
    except (OSError, ValueError):
        pass

    def key(entry):
        v = expect.parse_version(entry["resolved"]["version"]) or (0, 0)
        return (previous.get(entry["name"]) or 0, v)
    return key


# --------------------------------------------------------------------------- output

def status_line(r):
    t, g = r.get("times", {}), r.get("guest_times", {})
    tests = " ".join(f"{n} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in r.get("tests", {}).items())
    checks = r.get("checks", {})
    chk = " ".join(f"{k} {len(v['failures'])}" + (f"(+{len(v['excepted'])} exc)" if v["excepted"] else "")
                   for k, v in checks.items())
    return (f"{r['name']:6} {r['status']:19} {r.get('release', '-'):22} {r.get('version', '-'):20} "
            f"boot {g.get('boot', '-'):>4}s bpfprobe {g.get('bpfprobe', '-'):>4}s "
            f"qemu {t.get('qemu', '-'):>5}s  tests(p/f/s) {tests or '-'}  fails: {chk or '-'}")


def print_results(args, results, unused, started):
    print(f"\nkernel status              release                package version      times and results")
    for r in results:
        print(status_line(r))
    checks = passed = 0
    for r in results:
        items = [("boot", r["status"] not in BOOT_FAILURES and r.get("sections") is not None)]
        items += [(f"test {n}", not c["failed"]) for n, c in r.get("tests", {}).items()]
        items += [(k, not v["failures"]) for k, v in r.get("checks", {}).items()]
        checks += len(items)
        passed += sum(ok for _, ok in items)
    failed = [r for r in results if r["status"] != "ok"]
    for r in failed:
        print(f"\n=== {r['name']}: {r['status']}: {r.get('reason')}")
        for n, c in r.get("tests", {}).items():
            if c["failed"]:
                print(f"  {n}: failed: {', '.join(c['failures'])} (log: {os.path.join(args.out, r['name'], 'tests', n + '.log')})")
        for k, v in r.get("checks", {}).items():
            for line in v["failures"]:
                print(f"  {k}: {line}")
    for line in unused:
        print(f"warning: unused exception {line}")
    print(f"\nmatrix: {len(results)} kernels, {len(results) - len(failed)} ok, {time.time() - started:.0f} s; "
          f"results in {args.out} (summary.json, grid.html, grid.md)"
          + (f"; FAILED: {', '.join(r['name'] for r in failed)}" if failed else ""))
    print(f"{passed} passed, {checks - passed} failed")
    return 1 if failed or checks != passed else 0


BOOT_FAILURES = ("resolve-failed", "download-failed", "payload-error", "boot-failed", "crashed", "timeout",
                 "payload-failed", "error")


def main():
    global VERBOSE
    default_cache = os.path.join(os.environ.get("BPFPROBE_CACHE") or os.path.expanduser("~/.cache/bpfprobe"), "matrix")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", default=os.path.join(HERE, "kernels.txt"), help="kernel list file")
    ap.add_argument("--kernels", help="comma-separated subset of names from the list (default: all)")
    ap.add_argument("--cache", default=default_cache, help=f"download cache (default {default_cache})")
    ap.add_argument("--build", default=os.path.join(REPO, "build"),
                    help="build directory: bpfprobe from BUILD/src, tests from its CTest list (default build)")
    ap.add_argument("--out", help="results directory (default BUILD/matrix)")
    ap.add_argument("--bpfprobe", help="bpfprobe CLI binary (default BUILD/src/bpfprobe; 'none' to leave it out)")
    ap.add_argument("--tests", help="test executables: a directory, a comma-separated list, or 'none' "
                                    "(default: every executable CTest runs in BUILD, filtered by matrix/tests.tsv)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per kernel (boot + payload)")
    ap.add_argument("--test-timeout", type=int, default=300,
                    help="seconds for each guest command (bpftool, bpfprobe, each test); killed ones get rc=137")
    ap.add_argument("--modules", default=",".join(DEFAULT_MODULES), help="kernel modules to load in the guest")
    ap.add_argument("--accel", default="tcg",
                    help="QEMU accelerators to try in order, e.g. kvm:tcg (default tcg: works everywhere)")
    # qemu64 rather than max: TCG emulates fewer extensions and the guests run ~30% faster, with
    # identical verdicts (6.12, all 6917 facts compared, 2026-11-22).
    ap.add_argument("--cpu", default="qemu64", help="QEMU CPU model (default qemu64)")
    ap.add_argument("--jobs", type=int, default=1, help="kernels booted in parallel (TCG uses one core each)")
    ap.add_argument("--mirror", default=DEFAULT_MIRROR, help="Debian mirror")
    ap.add_argument("--refresh", action="store_true", help="update the apt index even if it is recent")
    ap.add_argument("--resolve-only", action="store_true", help="print resolved packages and stop")
    ap.add_argument("--keep-initramfs", action="store_true", help="keep <out>/<kernel>/initramfs.cpio")
    ap.add_argument("--docs", help="also write grid.html and grid.md into this directory (e.g. docs)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every progress line")
    args = ap.parse_args()
    VERBOSE = args.verbose
    args.out = args.out or os.path.join(args.build, "matrix")
    args.cache, args.out = os.path.abspath(args.cache), os.path.abspath(args.out)
    args.modules = [m.strip().replace("-", "_") for m in args.modules.split(",") if m.strip()]

    entries = load_kernel_list(args.list)
    if args.kernels:
        wanted = args.kernels.split(",")
        unknown = [k for k in wanted if k not in {e["name"] for e in entries}]
        if unknown:
            sys.exit(f"--kernels: not in {args.list}: {', '.join(unknown)}")
        entries = [e for e in entries if e["name"] in wanted]
    if not args.resolve_only:
        os.makedirs(args.out, exist_ok=True)
    payload = None if args.resolve_only else payload_files(args)
    if payload:
        log("matrix", f"payload: bpfprobe {payload['bpfprobe'] or '-'}; tests: "
                      + (", ".join(os.path.basename(t) for t in payload["tests"]) or "none"), always=True)

    started = time.time()
    apt = Apt(os.path.join(args.cache, "apt"),
              list(dict.fromkeys(e["suite"] for e in load_kernel_list(args.list))), args.mirror)
    results = []
    apt.update(args.refresh)
    runnable = []
    for entry in entries:
        try:
            entry["resolved"] = resolve(apt, entry)
            res = entry["resolved"]
            log(entry["name"], f"{entry['suite']}: " + ", ".join(f"{n} {v}" for n, v in res["packages"])
                + (f"; not in index: {', '.join(res['missing'])}" if res["missing"] else ""),
                always=args.resolve_only)
            runnable.append(entry)
        except Failure as e:
            log(entry["name"], f"{e.status.upper()}: {e}", always=True)
            results.append({"name": entry["name"], "suite": entry["suite"], "series": entry["series"],
                            "status": e.status, "reason": str(e)})
    if args.resolve_only:
        return 1 if results else 0

    runnable.sort(key=expected_seconds(args.out), reverse=True)  # longest first packs --jobs best
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results += list(pool.map(lambda e: run_kernel(apt, args, e, payload), runnable))
    order = [e["name"] for e in load_kernel_list(args.list)]
    results.sort(key=lambda r: order.index(r["name"]))
    unused = apply_checks(args, results, payload)
    for r in results:
        if os.path.isdir(os.path.join(args.out, r["name"])):
            with open(os.path.join(args.out, r["name"], "run.log"), "w") as f:
                f.write("\n".join(_logs.get(r["name"], [])) + "\n")
    summary = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "seconds": round(time.time() - started, 1), "cache": args.cache, "jobs": args.jobs,
               "payload": {k: payload[k] for k in ("bpfprobe", "bpftool", "tests")}, "kernels": results}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    try:
        written = grid.write(args.out, [args.out] + ([args.docs] if args.docs else []))
        log("matrix", f"grid: {', '.join(written)}")
    except Exception as e:  # the grid is a view: a bug there must not hide the results
        print(f"warning: grid not written: {type(e).__name__}: {e}")
    return print_results(args, results, unused, started)


if __name__ == "__main__":
    sys.exit(main())
