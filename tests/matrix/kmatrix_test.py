#!/usr/bin/env python3
"""Unit tests of the matrix runner's pieces that need no QEMU: kernels.txt, the guest /init, the
cold/warm and static/trial checks, and the object grid."""

import json
import os
import re
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "matrix"))
import object_grid  # noqa: E402
from kmatrix import consistency, initramfs, kernels  # noqa: E402


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)


def check_output(progs):
    return {"objects": [{"path": "/opt/x/app.bpf.o", "status": "supported",
                         "programs": [{"name": n, "section": s, "status": st, "reason": r} for n, s, st, r in progs]}]}


class KernelList(unittest.TestCase):
    def test_repository_list_parses(self):
        entries = kernels.load_kernel_list(os.path.join(REPO, "matrix", "kernels.txt"))
        self.assertGreaterEqual(len(entries), 7)
        self.assertEqual(len({e["name"] for e in entries}), len(entries))
        for e in entries:
            self.assertNotIn("from_pool", e)

    def test_unknown_option_is_refused(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("7.0 trixie-backports 7.0 missing=pool\n")
            f.flush()
            with self.assertRaises(SystemExit) as e:
                kernels.load_kernel_list(f.name)
            self.assertIn("missing=pool", str(e.exception.code))


class GuestInit(unittest.TestCase):
    def test_every_placeholder_is_filled(self):
        text = open(initramfs.INIT_SCRIPT).read()
        self.assertTrue(re.findall(r"@[A-Z]+@", text))
        filled = initramfs.init_script(42)
        self.assertEqual(re.findall(r"@[A-Z]+@", filled), [])
        self.assertIn("LIMIT=42", filled)
        self.assertIn("report-warm.json", filled)


class Consistency(unittest.TestCase):
    def test_cold_and_warm_agree_or_fail_by_name(self):
        with tempfile.TemporaryDirectory() as d:
            cold = {"program_types": {"xdp": {"status": "supported"}, "kprobe": {"status": "unsupported"}}}
            write(os.path.join(d, "report.json"), cold)
            write(os.path.join(d, "report-warm.json"), cold)
            self.assertEqual(consistency.cold_warm(d)["failures"], [])
            warm = json.loads(json.dumps(cold))
            warm["program_types"]["kprobe"]["status"] = "supported"
            write(os.path.join(d, "report-warm.json"), warm)
            failures = consistency.cold_warm(d)["failures"]
            self.assertEqual(len(failures), 1)
            self.assertIn("/program_types/kprobe", failures[0])

    def test_static_and_trial_disagreement_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "check.json"), check_output([("a", "xdp", "supported", ""),
                                                               ("b", "fentry/x", "unsupported", "no x")]))
            write(os.path.join(d, "check-static.json"), check_output([("a", "xdp", "supported", ""),
                                                                      ("b", "fentry/x", "supported", "")]))
            failures = consistency.static_vs_trial(d)["failures"]
            self.assertEqual(len(failures), 1)
            self.assertTrue(failures[0].startswith("app.bpf.o:b: static supported, trial unsupported"))


class ObjectGrid(unittest.TestCase):
    def test_cells_carry_reasons_and_mark_disagreement(self):
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "summary.json"), {"started": "now", "kernels": [{"name": "k1", "release": "6.1"},
                                                                                 {"name": "k2"}]})
            for k, st in (("k1", "unsupported"), ("k2", "supported")):
                write(os.path.join(d, k, "check.json"), check_output([("p", "fentry/x", st, f"reason {k}")]))
                write(os.path.join(d, k, "check-static.json"), check_output([("p", "fentry/x", "supported", "")]))
            object_grid.write(d, [d])
            page = open(os.path.join(d, "check-grid.html")).read()
            cells = re.findall(r'<td class="([a-z ]+)" title="([^"]*)">', page)
            self.assertEqual(len(cells), 2)
            self.assertEqual(cells[0][0], "u d")  # trial unsupported, static said supported
            self.assertIn("reason k1", cells[0][1])
            self.assertEqual(cells[1][0], "s")
            md = open(os.path.join(d, "check-grid.md")).read()
            self.assertIn("static: supported", md)


if __name__ == "__main__":
    unittest.main()
