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
import expect  # noqa: E402
from kmatrix import boot, consistency, grid_rows, initramfs, kernel_btf, kernels, userland  # noqa: E402


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


    def test_results_port_per_arch(self):
        self.assertIn("OUT=/dev/ttyS1", initramfs.init_script(1))
        self.assertIn("OUT=/dev/hvc0", initramfs.init_script(1, "arm64"))


class Arm64(unittest.TestCase):
    def test_arch_option_and_default_flavour(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("a bookworm 6.1 arch=arm64\nb bookworm 6.1\n")
            f.flush()
            a, b = kernels.load_kernel_list(f.name)
        self.assertEqual((a["arch"], a["flavour"]), ("arm64", "arm64"))
        self.assertEqual((b["arch"], b["flavour"]), ("amd64", "amd64"))
        self.assertTrue(any(e["arch"] == "arm64" for e in
                            kernels.load_kernel_list(os.path.join(REPO, "matrix", "kernels.txt"))))

    def test_qemu_command_per_arch(self):
        arm = boot.qemu_command("arm64", "tcg", "qemu64", "k", "i", "c.log", "s.log")
        self.assertEqual(arm[0], "qemu-system-aarch64")
        self.assertIn("console=ttyAMA0 panic=-1 quiet", arm)
        self.assertIn("virtconsole,chardev=results", arm)
        self.assertIn("file,id=results,path=s.log", arm)
        x86 = boot.qemu_command("amd64", "tcg", "qemu64", "k", "i", "c.log", "s.log")
        self.assertEqual(x86[0], "qemu-system-x86_64")
        self.assertEqual(x86.count("-serial"), 2)

    def test_btf_is_found_in_an_image(self):
        types, strings = b"\x01" * 40, b"\0int\0long\0"
        hdr = kernel_btf.BTF_HEADER.pack(kernel_btf.BTF_MAGIC, 1, 0, 24, 0, len(types), len(types), len(strings))
        blob = hdr + types + strings
        # A truncated decoy (its sizes run past the image's end) and padding around the real blob.
        decoy = kernel_btf.BTF_HEADER.pack(kernel_btf.BTF_MAGIC, 1, 0, 24, 0, 1 << 30, 1 << 30, 8)
        image = b"\x7f" * 100 + decoy + b"\x00" * 7 + blob + b"\xff" * 50
        self.assertEqual(kernel_btf.find_btf(image), blob)
        self.assertIsNone(kernel_btf.find_btf(b"\x00" * 64 + decoy))

    def test_absolute_symlinks_point_into_the_tree(self):
        with tempfile.TemporaryDirectory() as tree:
            os.makedirs(os.path.join(tree, "lib/x"))
            os.makedirs(os.path.join(tree, "usr/lib/x"))
            open(os.path.join(tree, "lib/x/libz.so.1"), "w").close()
            os.symlink("/lib/x/libz.so.1", os.path.join(tree, "usr/lib/x/libz.so"))
            userland.relative_symlinks(tree)
            link = os.path.join(tree, "usr/lib/x/libz.so")
            self.assertFalse(os.readlink(link).startswith("/"))
            self.assertEqual(os.path.realpath(link), os.path.realpath(os.path.join(tree, "lib/x/libz.so.1")))

    def test_needed_libraries_resolve_in_a_tree_like_ldd_on_the_host(self):
        # An amd64 "userland" made of the host's own libraries: DT_NEEDED resolution must find what
        # ldd finds (the arm64 tree is resolved the same way, where ldd cannot run).
        binary = "/usr/bin/setpriv" if os.path.exists("/usr/bin/setpriv") else "/bin/ls"
        host = {os.path.realpath(l) for l in initramfs.shared_libs(binary)}
        with tempfile.TemporaryDirectory() as tree:
            for lib in initramfs.shared_libs(binary):
                dst = os.path.join(tree, lib.lstrip("/"))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.symlink(os.path.realpath(lib), dst)
            saved = dict(userland.TRIPLETS)
            userland.TRIPLETS["amd64"] = "x86_64-linux-gnu"
            try:
                found = userland.shared_libs_in(tree, "amd64", binary)
            finally:
                userland.TRIPLETS.clear()
                userland.TRIPLETS.update(saved)
        self.assertEqual({h for _, h in found}, host)
        self.assertTrue(all(g.startswith("/") and not g.startswith(tree) for g, _ in found))

    def test_arch_table_overrides_first_kernel_on_that_arch_only(self):
        report = {"calibration": {"fentry_fires": {"status": "unsupported", "first_kernel": "5.5",
                                                   "reason": "ENOTSUPP"}}}
        exc = expect.Exceptions(os.devnull, ["kernel", "section", "fact", "expected"])
        f_amd, _, _ = expect.check_expectations("6.1", (6, 1), report, {}, exc)
        f_arm, _, _ = expect.check_expectations("6.1-arm64", (6, 1), report, {}, exc, "arm64")
        f_arm_new, _, _ = expect.check_expectations("7.3-arm64", (7, 3), report, {}, exc, "arm64")
        self.assertEqual(len(f_amd), 1)
        self.assertEqual(f_arm, [])
        self.assertEqual(len(f_arm_new), 1)  # 6.4 on arm64: unsupported on 7.3 still fails

    def test_grid_lists_facts_that_differ_between_architectures(self):
        def k(name, arch):
            return {"name": name, "arch": arch, "upstream_version": "6.1", "status": "ok"}
        sup, uns = {"status": "supported"}, {"status": "unsupported", "reason": "ENOTSUPP here"}
        kernels_ = [(k("6.1", "amd64"), {"calibration": {"fentry_fires": sup, "raw_tp_fires": sup}}),
                    (k("6.1-arm64", "arm64"), {"calibration": {"fentry_fires": uns, "raw_tp_fires": sup}})]
        rows = grid_rows.all_rows(kernels_)
        diff = grid_rows.arch_differences(kernels_, rows)
        self.assertEqual([(v, a, b, arch, r.name) for v, a, b, arch, r in diff],
                         [("6.1", 0, 1, "arm64", "fentry_fires")])
        self.assertIn("ENOTSUPP here", diff[0][4].cells[1][2])


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
