#!/usr/bin/env python3
"""`bpfprobe check` on BPF objects libbpf refuses to open: legacy SEC("maps") definitions (dropped in
libbpf 1.0) and BTF-defined maps in an object built without -g (no .BTF). Each program of the ELF is
reported as not loading, code `loader`, with the fix for the cause, and the CLI exits 1 (does not
load) — not 2 (bad input), which stays for files that are not BPF objects at all. The objects are
compiled here with clang (skipped, exit 77, without one).

Usage: unopenable_test.py BPFPROBE_CLI CORPUS_SOURCE_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CLI, CORPUS_SRC = sys.argv[1:3]
del sys.argv[1:3]
CLANG = shutil.which("clang-14") or shutil.which("clang")

BTF_MAPS_SRC = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} btf_counts SEC(".maps");
SEC("socket") int count_packets(struct __sk_buff* skb) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&btf_counts, &k);
  if (v) *v += 1;
  return 0;
}
SEC("tp/syscalls/sys_enter_getpid") int count_getpid(void* ctx) { return 0; }
"""


def compile_bpf(src, out, debug):
    arch_inc = "/usr/include/" + subprocess.run(["gcc", "-print-multiarch"], capture_output=True,
                                                text=True).stdout.strip()
    cmd = [CLANG, "-target", "bpf", "-O2", "-idirafter", arch_inc, "-c", src, "-o", out] + (["-g"] if debug else [])
    subprocess.run(cmd, check=True, capture_output=True)


def check(obj, *args):
    return subprocess.run([CLI, "check", *args, obj], capture_output=True, text=True, timeout=120)


@unittest.skipUnless(CLANG, "no clang to build the objects")
class Unopenable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bpfprobe-unopenable-")
        legacy = os.path.join(CORPUS_SRC, "legacy_maps.bpf.c")
        cls.legacy = {}
        for debug in (True, False):
            out = os.path.join(cls.dir, f"legacy_{'g' if debug else 'nog'}.bpf.o")
            compile_bpf(legacy, out, debug)
            cls.legacy[debug] = out
        src = os.path.join(cls.dir, "btf_maps.bpf.c")
        with open(src, "w") as f:
            f.write(BTF_MAPS_SRC)
        cls.btf_maps_nog = os.path.join(cls.dir, "btf_maps_nog.bpf.o")
        compile_bpf(src, cls.btf_maps_nog, debug=False)
        cls.btf_maps_g = os.path.join(cls.dir, "btf_maps_g.bpf.o")
        compile_bpf(src, cls.btf_maps_g, debug=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def programs(self, obj, *args):
        r = check(obj, "--json", *args)
        self.assertEqual(r.returncode, 1, f"{obj}: exit {r.returncode}: {r.stderr}")
        doc = json.loads(r.stdout)
        return {p["name"]: p for p in doc["objects"][0]["programs"]}

    def test_legacy_maps_do_not_load_with_this_libbpf(self):
        for debug, obj in self.legacy.items():
            for mode in ([], ["--no-load"]):
                progs = self.programs(obj, *mode)
                self.assertEqual(set(progs), {"legacy_count", "legacy_bystander"}, obj)
                for p in progs.values():
                    self.assertEqual(p["status"], "unsupported", p)
                    self.assertEqual(p["code"], "loader", p)
                    self.assertIn('SEC(".maps")', p["fix"], p)
                    self.assertIn("legacy map definitions", p["evidence"], p)

    def test_btf_defined_maps_without_btf_need_minus_g(self):
        progs = self.programs(self.btf_maps_nog)
        self.assertEqual(set(progs), {"count_packets", "count_getpid"})
        for p in progs.values():
            self.assertEqual((p["status"], p["code"]), ("unsupported", "loader"), p)
            self.assertIn("clang -g", p["fix"], p)
        # The same source with -g opens, and its socket filter is judged on its own merits.
        r = check(self.btf_maps_g, "--json", "--no-load")
        self.assertIn(r.returncode, (0, 3), r.stderr)
        progs = {p["name"]: p for p in json.loads(r.stdout)["objects"][0]["programs"]}
        self.assertNotEqual(progs["count_packets"]["code"], "loader", progs["count_packets"])

    def test_not_a_bpf_object_is_still_bad_input(self):
        r = check("/bin/true")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
