#!/usr/bin/env python3
"""`bpfprobe check --format github|junit|sarif` (and the JSON `source` key) on the objects built to
fail (tests/check/bpf/failures.bpf.c) and one that loads (app.bpf.c): one result per program that does
not load and per warning, at the source line of the deciding instruction. The expected lines are
found in the .bpf.c source at test time. Static prediction (--no-load) always; the trial load too as
root. SARIF is validated against the official 2.1.0 schema (vendored: sarif/README.md) with
python3-jsonschema, and the parts bpfprobe uses are checked by hand.

Usage: formats_test.py BPFPROBE_CLI OBJECT_DIR SOURCE_DIR"""
import json
import os
import re
import struct
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import sarif_schema

CLI, OBJ_DIR, SRC_DIR = sys.argv[1:4]
del sys.argv[1:4]
FAILURES_O = os.path.join(OBJ_DIR, "check_failures.bpf.o")
APP_O = os.path.join(OBJ_DIR, "check_app.bpf.o")
FAILURES_C = os.path.realpath(os.path.join(SRC_DIR, "failures.bpf.c"))


def line_of(pattern):
    """The 1-based line of failures.bpf.c that matches `pattern` (exactly one does)."""
    with open(FAILURES_C) as f:
        hits = [i + 1 for i, line in enumerate(f) if re.search(pattern, line)]
    assert len(hits) == 1, (pattern, hits)
    return hits[0]


def elf_sections(data):
    """Section name -> bytes of a 64-bit little-endian ELF file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = headers[shstrndx]
    strtab = data[names[4]:names[4] + names[5]]
    out = {}
    for h in headers:
        name = strtab[h[0]:strtab.index(b"\0", h[0])].decode()
        out[name] = data[h[4]:h[4] + h[5]]
    return out


def core_relo_line(obj, section, access):
    """The line .BTF.ext's line info gives the first CO-RE relocation of `section` with access string
    `access`: the last record with a line at or before the relocated instruction (read here from the
    raw bytes, independently of bpfprobe's parser)."""
    with open(obj, "rb") as f:
        secs = elf_sections(f.read())
    btf, ext = secs[".BTF"], secs[".BTF.ext"]
    hdr_len, _, _, str_off, str_len = struct.unpack_from("<IIIII", btf, 4)
    strs = btf[hdr_len + str_off:hdr_len + str_off + str_len]

    def string(off):
        return strs[off:strs.index(b"\0", off)].decode()

    def records(off, length):
        base = struct.unpack_from("<I", ext, 4)[0] + off
        size = struct.unpack_from("<I", ext, base)[0]
        pos = base + 4
        while pos < base + length:
            sec, n = struct.unpack_from("<II", ext, pos)
            pos += 8
            for i in range(n):
                yield string(sec), ext[pos + i * size:pos + (i + 1) * size]
            pos += n * size

    line_off, line_len, core_off, core_len = struct.unpack_from("<IIII", ext, 16)
    relos = [struct.unpack_from("<IIII", r) for sec, r in records(core_off, core_len) if sec == section]
    insn = min(r[0] for r in relos if string(r[2]) == access)
    lines = [struct.unpack_from("<IIII", r) for sec, r in records(line_off, line_len) if sec == section]
    return max((r for r in lines if r[0] <= insn and r[3] >> 10), key=lambda r: r[0])[3] >> 10


# The program -> (status, how to find the line that decides it). helper_not_allowed: the call of
# bpf_redirect (a socket filter may not call it); core_field_unguarded: the instruction of the CO-RE
# relocation of a field no kernel has, the first of its section (the guarded program's come later);
# clang may give it the line of a neighbouring statement, so the line comes from line info;
# fentry_target_missing and placeholder_target: nothing finer than the program's first line (libbpf
# refuses them before the verifier; statically the target is not in the code).
EXPECTED = {
    "helper_not_allowed": ("unsupported", lambda: line_of(r"return bpf_redirect\(ifindex, 0\)"), "helper"),
    "helper_in_subprogram": ("unsupported", lambda: line_of(r"return bpf_redirect\(skb->ifindex, 0\)"), "helper"),
    "core_field_unguarded": ("unsupported", lambda: core_relo_line(FAILURES_O, "raw_tp/sys_enter", "0:0"),
                             "core-relocation"),
    "fentry_target_missing": ("unsupported", lambda: line_of(r"BPF_PROG\(fentry_target_missing\)"), "attach-target"),
    "placeholder_target": ("unknown", lambda: line_of(r"BPF_PROG\(placeholder_target\)"), "attach-target"),
    "weak_kfunc_missing_unguarded": ("unsupported", lambda: line_of(r"^  bpfprobe_no_such_weak_kfunc\(\);"), "kfunc"),
}
# A per-CPU variable in kernel BTF has an address only where kallsyms lists data symbols
# (CONFIG_KALLSYMS_ALL); without it the weak typed ksym's load fails.
with open("/proc/kallsyms") as _k:
    if not any(line.rstrip().endswith(" bpf_prog_active") for line in _k):
        EXPECTED["weak_typed_ksym_in_btf"] = ("unsupported", lambda: line_of(r"int weak_typed_ksym_in_btf"),
                                              "extern-symbol")
WARNED = "weak_kfunc_missing"  # loads, with a warning about its missing weak kfunc


def expected_line(program):
    return EXPECTED[program][1]()


def run(obj, *args):
    out = subprocess.run([CLI, "check", *args, obj], capture_output=True, text=True, timeout=300)
    return out.returncode, out.stdout, out.stderr


def same_file(path):
    return os.path.realpath(path) == FAILURES_C


class Formats:
    """The checks, for one mode (static only, or with the trial load)."""
    args = ()

    def check_lines(self, found):
        """`found`: program -> (level or status, file, line) as one format reports it."""
        for prog, (status, _, _) in EXPECTED.items():
            self.assertIn(prog, found, found)
            _, file, line = found[prog]
            self.assertTrue(same_file(file), (prog, file, FAILURES_C))
            self.assertEqual(line, expected_line(prog), prog)

    def test_json_source(self):
        rc, out, err = run(FAILURES_O, "--json", *self.args)
        self.assertEqual(rc, 1, err)
        progs = {p["name"]: p for p in json.loads(out)["objects"][0]["programs"]}
        found = {}
        for name, p in progs.items():
            self.assertIn("source", p)
            if name in EXPECTED:
                self.assertEqual(p["status"], EXPECTED[name][0], p)
                self.assertEqual(p["code"], EXPECTED[name][2], p)
                found[name] = (p["status"], p["source"]["file"], p["source"]["line"])
        self.check_lines(found)
        self.assertEqual(progs["helper_not_allowed"]["source"]["from"], "verifier" if self.trial else "static")
        # Trial: the verifier's index is past the program's own instructions, in the appended subprogram.
        self.assertEqual(progs["helper_in_subprogram"]["source"]["from"], "verifier" if self.trial else "static")
        self.assertEqual(progs["core_field_unguarded"]["source"]["from"], "verifier" if self.trial else "static")
        self.assertEqual(progs["placeholder_target"]["source"]["from"], "program")

    def test_github(self):
        rc, out, err = run(FAILURES_O, "--format", "github", *self.args)
        self.assertEqual(rc, 1, err)
        pattern = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+)(?:,col=\d+)?,title=([^:]*)::(.+)$")
        found, warnings = {}, []
        for line in out.splitlines():
            m = pattern.match(line)
            self.assertTrue(m, line)
            level, file, num, _, message = m.groups()
            prog = message.split(" ", 1)[0].rstrip(":")
            if "warning" in m.group(4):
                warnings.append(prog)
                continue
            self.assertNotIn(prog, found, "one result per program")
            found[prog] = (level, file, int(num))
        self.check_lines(found)
        self.assertEqual(set(found), set(EXPECTED))
        for prog, (status, _, _) in EXPECTED.items():
            self.assertEqual(found[prog][0], "error" if status == "unsupported" else "warning")
        self.assertEqual(warnings, [WARNED])
        # An object whose programs all load: no annotations, exit 0.
        rc, out, err = run(APP_O, "--format", "github", *self.args)
        self.assertEqual((rc, out), (0, ""), err)

    def test_junit(self):
        rc, out, err = run(FAILURES_O, "--format", "junit", *self.args)
        self.assertEqual(rc, 1, err)
        root = ET.fromstring(out)
        self.assertEqual(root.tag, "testsuites")
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 1)
        cases = suites[0].findall("testcase")
        names = [c.get("name") for c in cases]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue({"helper_not_allowed", "weak_kfunc_missing", "core_field_guarded"} <= set(names), names)
        found = {}
        for c in cases:
            failure, error = c.find("failure"), c.find("error")
            if c.get("name") in EXPECTED:
                status = EXPECTED[c.get("name")][0]
                node = failure if status == "unsupported" else error
                self.assertIsNotNone(node, c.get("name"))
                self.assertEqual(node.get("type"), EXPECTED[c.get("name")][2])  # the failure code
                self.assertTrue(node.get("message"))
                found[c.get("name")] = (status, c.get("file"), int(c.get("line")))
            else:
                self.assertIsNone(failure, c.get("name"))
                self.assertIsNone(error, c.get("name"))
        self.check_lines(found)
        self.assertEqual(int(suites[0].get("failures")), sum(e[0] == "unsupported" for e in EXPECTED.values()))
        self.assertEqual(int(suites[0].get("errors")), sum(e[0] == "unknown" for e in EXPECTED.values()))
        self.assertEqual(int(suites[0].get("tests")), len(cases))
        warned = [c for c in cases if c.find("system-out") is not None]
        self.assertEqual([c.get("name") for c in warned], [WARNED])

    def test_sarif(self):
        rc, out, err = run(FAILURES_O, "--format", "sarif", *self.args)
        self.assertEqual(rc, 1, err)
        log = json.loads(out)
        check_sarif_structure(self, log)
        self.assertEqual(sarif_schema.errors(log), [])
        for what, broken in sarif_schema.broken_copies(log):
            self.assertNotEqual(sarif_schema.errors(broken), [], what)
        run0 = log["runs"][0]
        rule_ids = [r["id"] for r in run0["tool"]["driver"]["rules"]]
        self.assertEqual(sorted(rule_ids), sorted({e[2] for e in EXPECTED.values()} | {"warning"}))
        found, warnings = {}, []
        for r in run0["results"]:
            prog = r["properties"]["program"]
            loc = r["locations"][0]["physicalLocation"]
            uri = loc["artifactLocation"]["uri"]
            self.assertTrue(uri.startswith("file:///"), uri)
            if r["ruleId"] == "warning":
                warnings.append(prog)
                continue
            self.assertEqual(r["ruleId"], EXPECTED[prog][2])
            self.assertEqual(r["level"], "error" if EXPECTED[prog][0] == "unsupported" else "warning")
            found[prog] = (r["ruleId"], uri[len("file://"):], loc["region"]["startLine"])
        self.check_lines(found)
        self.assertEqual(set(found), set(EXPECTED))
        self.assertEqual(warnings, [WARNED])


def check_sarif_structure(t, log):
    """The parts of SARIF 2.1.0 this output uses, as the schema requires them."""
    t.assertEqual(log["version"], "2.1.0")
    t.assertIsInstance(log["$schema"], str)
    t.assertEqual(len(log["runs"]), 1)
    run0 = log["runs"][0]
    driver = run0["tool"]["driver"]
    t.assertIsInstance(driver["name"], str)
    ids = [r["id"] for r in driver["rules"]]
    t.assertEqual(len(ids), len(set(ids)), "rule ids are unique")
    for r in driver["rules"]:
        t.assertIsInstance(r["shortDescription"]["text"], str)
        t.assertIn(r["defaultConfiguration"]["level"], ("none", "note", "warning", "error"))
    for r in run0["results"]:
        t.assertIn(r["ruleId"], ids)
        t.assertEqual(ids[r["ruleIndex"]], r["ruleId"])
        t.assertIn(r["level"], ("none", "note", "warning", "error"))
        t.assertTrue(r["message"]["text"])
        t.assertGreaterEqual(len(r["locations"]), 1)
        for loc in r["locations"]:
            phys = loc["physicalLocation"]
            t.assertIsInstance(phys["artifactLocation"]["uri"], str)
            t.assertNotIn(" ", phys["artifactLocation"]["uri"])
            if "region" in phys:
                t.assertIsInstance(phys["region"]["startLine"], int)
                t.assertGreaterEqual(phys["region"]["startLine"], 1)
                if "startColumn" in phys["region"]:
                    t.assertGreaterEqual(phys["region"]["startColumn"], 1)
            for logical in loc.get("logicalLocations", []):
                t.assertIsInstance(logical["name"], str)
        t.assertIsInstance(r.get("properties", {}), dict)


class StaticFormats(Formats, unittest.TestCase):
    args = ("--no-load",)
    trial = False


@unittest.skipUnless(os.geteuid() == 0, "trial loads need root")
class TrialFormats(Formats, unittest.TestCase):
    args = ()
    trial = True


if __name__ == "__main__":
    for path in (CLI, FAILURES_O, APP_O, FAILURES_C):
        if not os.path.exists(path):
            sys.exit(f"missing {path} (build the check_tests target first)")
    unittest.main()
