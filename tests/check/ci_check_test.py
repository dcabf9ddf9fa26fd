#!/usr/bin/env python3
"""scripts/ci-check-objects.sh, the sample CI step, on the example objects (tests/check/bpf): it fails
when an object does not load, its GitHub annotation names the line of failures.bpf.c that the
failing instruction comes from (the line marked `ci-check: helper_not_allowed`), its SARIF validates
against the official schema and its JUnit has a test case per program; it passes on an object that
loads, warns on one that cannot be decided (fails with --strict), and fails on bad input.

Usage: ci_check_test.py BPFPROBE_CLI OBJECT_DIR SOURCE_DIR SCRIPT"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

import sarif_schema

CLI, OBJ_DIR, SRC_DIR, SCRIPT = sys.argv[1:5]
del sys.argv[1:5]
FAILURES_O = os.path.join(OBJ_DIR, "check_failures.bpf.o")
APP_O = os.path.join(OBJ_DIR, "check_app.bpf.o")
FAILURES_C = os.path.realpath(os.path.join(SRC_DIR, "failures.bpf.c"))
FAILING = "helper_not_allowed"


def marked_line():
    """The line of failures.bpf.c with the marker comment (exactly one has it)."""
    with open(FAILURES_C) as f:
        hits = [i + 1 for i, line in enumerate(f) if f"ci-check: {FAILING} " in line]
    assert len(hits) == 1, hits
    return hits[0]


def run_script(*args, env=None):
    out = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, **(env or {})))
    return out.returncode, out.stdout, out.stderr


def annotations(text):
    """program -> (level, file, line) of the `::error`/`::warning` lines that name a program."""
    pattern = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+)(?:,col=\d+)?,title=[^:]*::(\S+)")
    found = {}
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            level, file, num, prog = m.groups()
            found.setdefault(prog.rstrip(":"), (level, file, int(num)))
    return found


@unittest.skipUnless(os.geteuid() == 0, "the trial load needs root")
class CiScript(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bpfprobe-ci-")
        self.addCleanup(self.tmp.cleanup)
        self.out = os.path.join(self.tmp.name, "out")

    def read(self, name):
        with open(os.path.join(self.out, name)) as f:
            return f.read()

    def test_fails_on_the_example_objects_at_the_line_of_the_failing_call(self):
        objects = sorted(glob.glob(os.path.join(OBJ_DIR, "check_*.bpf.o")))
        self.assertIn(FAILURES_O, objects)
        rc, stdout, stderr = run_script("--out", self.out, CLI, *objects)
        self.assertEqual(rc, 1, stderr)
        # The annotations, on stdout and in the file; the failing call's line, from the verifier.
        self.assertEqual(stdout, self.read("bpfprobe-check.github"))
        level, file, line = annotations(stdout)[FAILING]
        self.assertEqual(level, "error")
        self.assertEqual(os.path.realpath(file), FAILURES_C)
        self.assertEqual(line, marked_line())
        self.assertIn("does not load", stderr)

        log = json.loads(self.read("bpfprobe-check.sarif"))
        self.assertEqual(sarif_schema.errors(log), [])
        results = [r for r in log["runs"][0]["results"] if r["properties"]["program"] == FAILING]
        self.assertEqual(len(results), 1)
        loc = results[0]["locations"][0]["physicalLocation"]
        self.assertEqual(os.path.realpath(loc["artifactLocation"]["uri"][len("file://"):]), FAILURES_C)
        self.assertEqual(loc["region"]["startLine"], marked_line())
        self.assertEqual(results[0]["level"], "error")

        root = ET.fromstring(self.read("bpfprobe-check.junit.xml"))
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), len(objects))  # a suite per object
        for suite in suites:
            cases = suite.findall("testcase")
            self.assertGreaterEqual(len(cases), 1)
            self.assertEqual(int(suite.get("tests")), len(cases))
            self.assertEqual(int(suite.get("failures")), len([c for c in cases if c.find("failure") is not None]))
        case = [c for s in suites for c in s.findall("testcase") if c.get("name") == FAILING]
        self.assertEqual(len(case), 1)
        self.assertIsNotNone(case[0].find("failure"))
        self.assertEqual(int(case[0].get("line")), marked_line())

    def test_passes_when_every_object_loads(self):
        rc, stdout, stderr = run_script(CLI, APP_O, env={"BPFPROBE_CHECK_OUT": self.out})
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(stdout, "")
        self.assertEqual(self.read("bpfprobe-check.github"), "")
        log = json.loads(self.read("bpfprobe-check.sarif"))
        self.assertEqual(sarif_schema.errors(log), [])
        self.assertEqual(log["runs"][0]["results"], [])
        suite = ET.fromstring(self.read("bpfprobe-check.junit.xml")).find("testsuite")
        self.assertGreater(int(suite.get("tests")), 1)
        self.assertEqual((suite.get("failures"), suite.get("errors")), ("0", "0"))

    def test_static_prediction_fails_too(self):
        rc, stdout, stderr = run_script("--no-load", "--out", self.out, CLI, FAILURES_O, APP_O)
        self.assertEqual(rc, 1, stderr)
        self.assertEqual(annotations(stdout)[FAILING][2], marked_line())

    def test_unknown_is_a_warning_unless_strict(self):
        # zero_size.bpf.c ships a map sized by the application before load: undecidable from the
        # object on any kernel, so every program is unknown.
        zero_size = os.path.join(OBJ_DIR, "check_zero_size.bpf.o")
        rc, stdout, stderr = run_script("--out", self.out, CLI, zero_size)
        self.assertEqual(rc, 0, stderr)
        self.assertIn("could not be decided", stderr)
        self.assertEqual({a[0] for a in annotations(stdout).values()}, {"warning"})
        rc, _, stderr = run_script("--strict", "--out", self.out, CLI, zero_size)
        self.assertEqual(rc, 3, stderr)

    def test_bad_input_fails(self):
        not_elf = os.path.join(self.tmp.name, "not_elf.bpf.o")
        with open(not_elf, "w") as f:
            f.write("not an ELF file\n")
        rc, _, stderr = run_script("--out", self.out, CLI, APP_O, not_elf)
        self.assertEqual(rc, 2, stderr)
        self.assertIn("not_elf.bpf.o", stderr)

    def test_usage(self):
        rc, _, stderr = run_script(CLI)
        self.assertEqual(rc, 2)
        self.assertIn("usage", stderr)


if __name__ == "__main__":
    for path in (CLI, FAILURES_O, APP_O, FAILURES_C, SCRIPT):
        if not os.path.exists(path):
            sys.exit(f"missing {path} (build the check objects and the CLI first)")
    unittest.main()
