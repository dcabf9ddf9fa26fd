#!/usr/bin/env python3
"""Seeds for the snapshot reader's fuzz target (snapshot_fuzz.cpp): small valid kernel snapshots
(docs/snapshot.md) with and without BTF, made with the zstd command. Writes tests/fuzz/corpus/snapshot/."""
import pathlib
import struct
import subprocess

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "snapshot"


def zstd(raw):
    # From a pipe the zstd command knows the size (which the format requires in the frame) only when told.
    return subprocess.run(["zstd", "-19", "-q", "-c", f"--stream-size={len(raw)}"], input=raw,
                          capture_output=True, check=True).stdout


def btf_int():
    """Raw BTF with one type: int (4 bytes, signed)."""
    strings = b"\0int\0"
    types = struct.pack("<IIII", 1, 1 << 24, 4, (1 << 24) | 32)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def split_btf():
    """Split BTF on btf_int(): struct s { int a; } (type 2). Its string offsets continue after the
    base's 5 bytes of strings."""
    strings = b"s\0a\0"
    types = struct.pack("<III", 5, (4 << 24) | 1, 4) + struct.pack("<III", 7, 1, 0)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def row(section, name, status, err, reason, evidence=b""):
    s = lambda b: struct.pack("<I", len(b)) + b
    return s(section) + s(name) + struct.pack("<BI", status, err) + s(reason) + s(evidence)


def snapshot(with_btf, stored=False):
    meta = {"bpfprobe_version": "0.1.0", "catalog": "seed", "config_source": "/proc/config.gz", "euid": "0",
            "kallsyms": "listed", "kallsyms_data_symbols": "0", "machine": "x86_64", "release": "6.1.0-seed",
            "version": "#1", "vmlinux_btf": "present" if with_btf else "absent"}
    rows = [row(b"helpers", b"xdp/bpf_redirect", 0, 0, b"loaded"),
            row(b"map_types", b"arena", 1, 22, b"kernel does not know it", b"EINVAL"),
            row(b"program_types", b"xdp", 0, 0, b"loaded")]
    sections = [(1, "".join(f"{k}={v}\n" for k, v in sorted(meta.items())).encode()),
                (2, struct.pack("<I", len(rows)) + b"".join(rows)),
                (3, b'{"kernel": {}}')]
    if with_btf:
        name = b"mod"
        sections += [(4, btf_int()), (5, struct.pack("<I", 1) + struct.pack("<I", len(name)) + name +
                                      struct.pack("<Q", len(split_btf())) + split_btf())]
    sections += [(6, b"bpf_prog_put\ndo_unlinkat\n"), (7, b"CONFIG_BPF=y\nCONFIG_HZ=250\n")]
    out = b"BPFPSNAP" + struct.pack("<II", 1, len(sections))
    for sid, raw in sections:
        data = raw if stored else zstd(raw)
        out += struct.pack("<IIQQ", sid, 0 if stored else 1, len(raw), len(data)) + data
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ok-btf.snap").write_bytes(snapshot(True))
    (OUT / "ok-no-btf.snap").write_bytes(snapshot(False))
    (OUT / "ok-stored.snap").write_bytes(snapshot(True, stored=True))


if __name__ == "__main__":
    main()
