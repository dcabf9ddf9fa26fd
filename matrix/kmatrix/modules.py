"""Which kernel modules to insmod in the guest, in dependency order, read from the package itself."""

import gzip
import lzma
import os
import re
import struct
import subprocess

# Built as modules by Debian, needed by probes and tests in the guest. nf_defrag_*: netfilter links
# with BPF_F_NETFILTER_IP_DEFRAG (the kernel would request_module() them; the guest has no modprobe).
DEFAULT_MODULES = ["sch_ingress", "cls_bpf", "act_bpf", "veth", "dummy", "netkit", "nf_defrag_ipv4", "nf_defrag_ipv6"]
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
