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

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
DEFAULT_MODULES = ["sch_ingress", "cls_bpf", "act_bpf", "veth", "dummy", "netkit"]
INDEX_MAX_AGE_H = 24
GUEST_BIN = "/opt/bpfprobe/bin"
GUEST_TESTS = "/opt/bpfprobe/tests"

_log_lock = threading.Lock()


def log(tag, msg):
    with _log_lock:
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
                            "modules_optional": opts.get("modules") == "optional"})
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
            log("apt", f"apt-get update failed (rc={p.returncode}):\n{self.update_error}")
            return
        open(self.stamp, "w").close()
        log("apt", f"index updated for {', '.join(self.suites)} in {time.monotonic() - t:.1f} s")

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
    return {"image": image, "version": version, "abi": abi, "packages": download, "missing": missing}


# --------------------------------------------------------------------------- fetch and locate

def fetch(apt, cache, tag, res):
    """Download and extract RES into the cache; returns (tree, was_cached)."""
    tree = os.path.join(cache, "kernels", f"{res['image']}_{res['version']}")
    if os.path.exists(os.path.join(tree, "packages.json")):
        log(tag, f"kernel {res['image']} {res['version']}: cached ({tree})")
        return tree, True
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


def add_program(cpio, guest_path, host_path):
    cpio.file(guest_path, host_path)
    for lib in shared_libs(host_path):
        if lib.strip("/") not in cpio.entries:
            cpio.file(lib, lib)


INIT = r"""#!/bin/sh
# Generated by matrix/run.py: sets up the guest, runs the payload, reports on /dev/ttyS1.
export PATH=@BIN@:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
export BPFPROBE=@BIN@/bpfprobe
OUT=/dev/ttyS1
LIMIT=@LIMIT@

fs() {  # fstype mountpoint
    mkdir -p "$2" 2>/dev/null
    if mount -t "$1" "$1" "$2" 2>/tmp/err; then echo "mount $1 $2: ok"
    else echo "mount $1 $2: FAILED $(cat /tmp/err)"; fi
}

setup() {
    fs proc /proc; fs sysfs /sys; fs devtmpfs /dev  # / is the writable initramfs: no tmpfs needed
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
setup > /tmp/setup.log 2>&1
emit setup.log 0 /tmp/setup.log
uname -r > /tmp/o; emit uname.txt $? /tmp/o
facts > /tmp/o 2>&1; emit facts.txt 0 /tmp/o

echo "matrix: bpftool feature probe"
timeout -s KILL $LIMIT bpftool -j feature probe kernel > /tmp/o 2> /tmp/e; rc=$?
emit bpftool.json $rc /tmp/o; emit bpftool.stderr $rc /tmp/e
if [ -x @BIN@/bpfprobe ]; then
    echo "matrix: bpfprobe --report --json"
    timeout -s KILL $LIMIT bpfprobe --report --json > /tmp/o 2> /tmp/e; rc=$?
    emit report.json $rc /tmp/o; emit report.stderr $rc /tmp/e
fi
for t in @TESTS@/*; do
    [ -x "$t" ] || continue
    echo "matrix: test ${t##*/}"
    (cd /tmp && timeout -s KILL $LIMIT "$t") > /tmp/o 2>&1; rc=$?
    emit "tests/${t##*/}.log" $rc /tmp/o
done
echo "===DONE===" > $OUT
echo "matrix: done, powering off"
poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
"""


def build_initramfs(path, release, moddir, config, modules, payload, test_timeout):
    """Write the guest cpio to PATH; returns the module plan."""
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
    if payload["bpfprobe"]:
        add_program(cpio, f"{GUEST_BIN}/bpfprobe", payload["bpfprobe"])
    for t in payload["tests"]:
        add_program(cpio, f"{GUEST_TESTS}/{os.path.basename(t)}", t)
    cpio.dir(GUEST_TESTS)
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

def boot(vmlinuz, initrd, kdir, timeout):
    """Run QEMU; returns (exited_in_time, qemu_returncode)."""
    console, serial = os.path.join(kdir, "console.log"), os.path.join(kdir, "serial.log")
    for f in (console, serial):
        if os.path.exists(f):
            os.remove(f)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1G", "-smp", "1",
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

        t = time.monotonic()
        initrd = os.path.join(kdir, "initramfs.cpio")
        plan = build_initramfs(initrd, release, moddir, config, args.modules, payload, args.test_timeout)
        result["modules"] = plan
        result["times"]["initramfs"] = round(time.monotonic() - t, 1)
        result["initramfs_mb"] = round(os.path.getsize(initrd) / 2**20, 1)
        for name in plan["missing"] if moddir else []:
            if name != "netkit" or kernel_version(release) >= (6, 7):  # netkit is new in 6.7
                result["warnings"].append(f"module {name} not found")
        log(tag, f"initramfs {result['initramfs_mb']} MB in {result['times']['initramfs']} s; "
                 f"modules: load {plan['load']} builtin {plan['builtin']} missing {plan['missing']}")

        t = time.monotonic()
        in_time, rc = boot(vmlinuz, initrd, kdir, args.timeout)
        result["times"]["boot"] = round(time.monotonic() - t, 1)
        result["qemu_rc"] = rc
        sections, done = collect(kdir)
        result["sections"] = sections
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
        bad = [s for s, rc in sections.items() if rc != 0 and not s.endswith(".stderr")]
        if bad:
            raise Failure("payload-failed", "non-zero exit: " + ", ".join(f"{s} rc={sections[s]}" for s in bad))
    except Failure as e:
        result["status"], result["reason"] = e.status, str(e)
    except subprocess.CalledProcessError as e:
        result["status"], result["reason"] = "error", f"{' '.join(e.cmd)}: {(e.stderr or '').strip()[-500:]}"
    except Exception as e:  # report, never lose the other kernels
        result["status"], result["reason"] = "error", f"{type(e).__name__}: {e}"
    for w in result["warnings"]:
        log(tag, f"warning: {w}")
    if result["status"] != "ok":
        log(tag, f"{result['status'].upper()}: {result['reason']}")
        if result["status"] in ("timeout", "boot-failed", "crashed", "payload-failed"):
            log(tag, "console tail:\n" + tail(os.path.join(kdir, "console.log")))
    with open(os.path.join(kdir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    times = " ".join(f"{k} {v}s" for k, v in result["times"].items())
    log(tag, f"{result['status']}: {result.get('release', '?')} ({times})")
    return result


def payload_files(args):
    tests = []
    for item in (args.tests or "").split(","):
        if not item:
            continue
        if os.path.isdir(item):
            tests += sorted(os.path.join(item, f) for f in os.listdir(item)
                            if os.path.isfile(os.path.join(item, f)) and os.access(os.path.join(item, f), os.X_OK))
        elif os.path.isfile(item):
            tests.append(item)
        else:
            sys.exit(f"--tests: no such file or directory: {item}")
    bpfprobe = args.bpfprobe
    if bpfprobe is None and os.path.exists(os.path.join(REPO, "build/src/bpfprobe")):
        bpfprobe = os.path.join(REPO, "build/src/bpfprobe")
    if bpfprobe is None:
        log("matrix", "no --bpfprobe given and build/src/bpfprobe absent: running bpftool and tests only")
    elif not os.access(bpfprobe, os.X_OK):
        sys.exit(f"--bpfprobe: not an executable: {bpfprobe}")
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    if not os.path.exists(bpftool):
        sys.exit("bpftool not found on the host (scripts/install-deps.sh installs it)")
    return {"bpfprobe": bpfprobe and os.path.abspath(bpfprobe), "bpftool": bpftool,
            "tests": [os.path.abspath(t) for t in tests]}


def main():
    default_cache = os.path.join(os.environ.get("BPFPROBE_CACHE") or os.path.expanduser("~/.cache/bpfprobe"), "matrix")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", default=os.path.join(HERE, "kernels.txt"), help="kernel list file")
    ap.add_argument("--kernels", help="comma-separated subset of names from the list (default: all)")
    ap.add_argument("--cache", default=default_cache, help=f"download cache (default {default_cache})")
    ap.add_argument("--out", default=os.path.join(REPO, "build/matrix"), help="results directory")
    ap.add_argument("--bpfprobe", help="bpfprobe CLI binary (default build/src/bpfprobe when present)")
    ap.add_argument("--tests", help="directory of test executables, or comma-separated list of them")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per kernel (boot + payload)")
    ap.add_argument("--test-timeout", type=int, default=300,
                    help="seconds for each guest command (bpftool, bpfprobe, each test); killed ones get rc=137")
    ap.add_argument("--modules", default=",".join(DEFAULT_MODULES), help="kernel modules to load in the guest")
    ap.add_argument("--jobs", type=int, default=1, help="kernels booted in parallel (TCG uses one core each)")
    ap.add_argument("--mirror", default=DEFAULT_MIRROR, help="Debian mirror")
    ap.add_argument("--refresh", action="store_true", help="update the apt index even if it is recent")
    ap.add_argument("--resolve-only", action="store_true", help="print resolved packages and stop")
    ap.add_argument("--keep-initramfs", action="store_true", help="keep <out>/<kernel>/initramfs.cpio")
    args = ap.parse_args()
    args.cache, args.out = os.path.abspath(args.cache), os.path.abspath(args.out)
    args.modules = [m.strip().replace("-", "_") for m in args.modules.split(",") if m.strip()]

    entries = load_kernel_list(args.list)
    if args.kernels:
        wanted = args.kernels.split(",")
        unknown = [k for k in wanted if k not in {e["name"] for e in entries}]
        if unknown:
            sys.exit(f"--kernels: not in {args.list}: {', '.join(unknown)}")
        entries = [e for e in entries if e["name"] in wanted]
    payload = None if args.resolve_only else payload_files(args)

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
                + (f"; not in index: {', '.join(res['missing'])}" if res["missing"] else ""))
            runnable.append(entry)
        except Failure as e:
            log(entry["name"], f"{e.status.upper()}: {e}")
            results.append({"name": entry["name"], "suite": entry["suite"], "series": entry["series"],
                            "status": e.status, "reason": str(e)})
    if args.resolve_only:
        return 1 if results else 0

    os.makedirs(args.out, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results += list(pool.map(lambda e: run_kernel(apt, args, e, payload), runnable))
    order = [e["name"] for e in load_kernel_list(args.list)]
    results.sort(key=lambda r: order.index(r["name"]))
    summary = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "seconds": round(time.time() - started, 1), "cache": args.cache,
               "payload": payload, "kernels": results}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    print(f"\n{'kernel':8} {'release':24} {'download':>8} {'initrd':>7} {'boot':>6}  status")
    for r in results:
        t = r.get("times", {})
        print(f"{r['name']:8} {r.get('release', '-'):24} {t.get('download', '-'):>8} "
              f"{t.get('initramfs', '-'):>7} {t.get('boot', '-'):>6}  {r['status']}"
              + (f" ({r['reason']})" if r.get("reason") else ""))
    failed = [r["name"] for r in results if r["status"] != "ok"]
    print(f"summary: {os.path.join(args.out, 'summary.json')}; "
          + (f"FAILED: {', '.join(failed)}" if failed else f"all {len(results)} kernels ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
