"""The guest's initramfs: busybox, the payload and its shared libraries, modules and guest/init.sh."""

import os
import re
import stat
import subprocess

from .common import Failure, run
from .modules import plan_modules
from .userland import shared_libs_in

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT_SCRIPT = os.path.join(HERE, "guest", "init.sh")
GUEST_BIN = "/opt/bpfprobe/bin"
GUEST_TESTS = "/opt/bpfprobe/tests"
GUEST_OBJECTS = "/opt/bpfprobe/objects"


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


def add_program(cpio, guest_path, host_path, stripped=None, tree=None, arch="amd64"):
    """HOST_PATH at GUEST_PATH (its debug-info-free copy from STRIPPED when there is one), with its
    shared libraries: at their host paths, or for a foreign ARCH from its userland TREE."""
    cpio.file(guest_path, (stripped or {}).get(host_path, host_path))
    libs = [(lib, lib) for lib in shared_libs(host_path)] if tree is None else shared_libs_in(tree, arch, host_path)
    for guest, host in libs:
        if guest.strip("/") not in cpio.entries:
            cpio.file(guest, host)


# Host programs the tests run whose busybox applets lack options they use, at the same path (PATH
# in the guest puts /usr/bin before busybox's /bin). setpriv: --reuid/--regid for unprivileged runs.
HOST_TOOLS = ("/usr/bin/setpriv",)


# The results port (boot.py): the second serial port, or on arm64 the virtio console.
RESULTS_PORT = {"amd64": "/dev/ttyS1", "arm64": "/dev/hvc0"}


def init_script(test_timeout, arch="amd64"):
    """guest/init.sh with its @NAME@ placeholders filled in."""
    with open(INIT_SCRIPT) as f:
        return (f.read().replace("@BIN@", GUEST_BIN).replace("@OUT@", RESULTS_PORT[arch]).replace("@TESTS@", GUEST_TESTS)
                .replace("@OBJECTS@", GUEST_OBJECTS).replace("@LIMIT@", str(test_timeout)))


def build_initramfs(path, release, moddir, config, modules, payload, test_timeout, tests):
    """Write the guest cpio to PATH; returns the module plan. TESTS: [(name, gtest filter)]."""
    cpio = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc/bpfprobe"):
        cpio.dir(d)
    cpio.node("dev/console", 5, 1)
    arch, tree = payload.get("arch", "amd64"), payload.get("tree")
    native_busybox = "/bin/busybox"
    busybox = native_busybox if tree is None else os.path.join(tree, "bin/busybox")
    if not os.path.exists(busybox) or (tree is None and shared_libs(busybox)):
        raise Failure("payload-error", f"{busybox} must be busybox-static")
    cpio.file("bin/busybox", busybox)
    # The applet list is the same for every architecture of one busybox-static version.
    for applet in run([native_busybox, "--list-full"]).stdout.split():
        cpio.symlink(applet, "/bin/busybox")
    add_program(cpio, "usr/sbin/bpftool", payload["bpftool"], tree=tree, arch=arch)
    for tool in HOST_TOOLS:
        host = tool if tree is None else os.path.join(tree, tool.lstrip("/"))
        if os.path.exists(host):
            add_program(cpio, tool.lstrip("/"), host, tree=tree, arch=arch)
    if payload["bpfprobe"]:
        add_program(cpio, f"{GUEST_BIN}/bpfprobe", payload["bpfprobe"], payload["stripped"], tree, arch)
    wanted = {name for name, _ in tests}
    for t in payload["tests"]:
        if os.path.basename(t) in wanted:
            add_program(cpio, f"{GUEST_TESTS}/{os.path.basename(t)}", t, payload["stripped"], tree, arch)
    cpio.dir(GUEST_TESTS)
    cpio.data("etc/bpfprobe/tests.list", "".join(f"{n}\t{f}\n" for n, f in tests).encode(), 0o644)
    for host in payload.get("source_data", []):
        cpio.file(host, host)
    cpio.dir(GUEST_OBJECTS)
    for host in payload.get("objects", []):
        cpio.file(f"{GUEST_OBJECTS}/{os.path.basename(host)}", host)
    if config:  # lets bpftool report the kernel config section
        cpio.file(f"boot/config-{release}", config)
    plan, blobs = plan_modules(moddir, modules)
    listing = ""
    for name in plan["load"]:
        cpio.data(f"lib/modules/{release}/{name}.ko", blobs[name], 0o644)
        listing += f"{name} /lib/modules/{release}/{name}.ko\n"
    cpio.data("etc/bpfprobe/modules.list", listing.encode(), 0o644)
    init = init_script(test_timeout, arch)
    cpio.data("init", init.encode())
    cpio.write(path)
    return plan
