#!/usr/bin/env python3
"""matrix/grid.py on a small fixed results set (three kernels, one without a report): every cell has a
hover text, each status has its colour, the differs view holds exactly the rows that change, the table
of contents resolves, commits link upstream. With chromium installed, a headless screenshot of the page
is taken too (the docs check, scripts/docs.sh, does the same for docs/grid.html).

    grid_test.py [-v]        # exit 0 passed; ctest label unit
"""

import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "matrix"))
import grid  # noqa: E402


def fact(status, reason="", **extra):
    f = {"status": status}
    if reason:
        f["reason"] = reason
    f.update(extra)
    return f


def fixture(root):
    """Kernels old (5.10), new (6.1) and broken (no report)."""
    old = {
        "kernel": {"release": "5.10.0-test"},
        "program_types": {"xdp": fact("supported", evidence="loaded"),
                          "kprobe": fact("unknown", "not permitted", errno="EPERM")},
        "map_types": {"hash": fact("supported"), "ringbuf": fact("unsupported", "no such map type", errno="EINVAL")},
        "helpers": {"xdp": {"bpf_redirect": fact("supported", first_kernel="4.4", commit="27b29f63058d")}},
        "kfuncs": {},
        "compat": {"dynptr_size": {"for": "raw_tracepoint", "tier": "unavailable",
                                   "tiers": [{"tier": "kfunc", "status": "unsupported", "reason": "no bpf_dynptr_size"}]},
                   "task_pid": {"for": "raw_tracepoint", "tier": "core",
                                "tiers": [{"tier": "core", "status": "supported", "reason": "CO-RE read loaded"}]}},
        "attach": {"xdp": {"chosen": "netlink", "candidates": [
            {"path": "bpf_link", "status": "unsupported", "reason": "no xdp link"},
            {"path": "netlink", "status": "supported", "reason": "prog:xdp supported"}]}},
    }
    new = json.loads(json.dumps(old))
    new["kernel"]["release"] = "6.1.0-test"
    new["map_types"]["ringbuf"] = fact("supported", first_kernel="5.8", commit="457f44363a88")
    new["kfuncs"] = {"bpf_rdonly_cast": fact("supported"),
                     "bpf_dynptr_from_skb": fact("supported", first_kernel="6.3", commit="b5964b968ac6")}
    new["compat"]["dynptr_size"] = {"for": "raw_tracepoint", "tier": "kfunc",
                                    "tiers": [{"tier": "kfunc", "status": "supported", "reason": "loaded"}]}
    summary = {"started": "2026-01-01T00:00:00Z", "kernels": [
        {"name": "5.10", "status": "ok", "release": "5.10.0-test", "upstream_version": "5.10"},
        {"name": "6.1", "status": "ok", "release": "6.1.0-test", "upstream_version": "6.1"},
        {"name": "broken", "status": "boot-failed", "reason": "no console output"}]}
    with open(os.path.join(root, "summary.json"), "w") as f:
        json.dump(summary, f)
    for name, report in (("5.10", old), ("6.1", new)):
        os.makedirs(os.path.join(root, name))
        with open(os.path.join(root, name, "report.json"), "w") as f:
            json.dump(report, f)


class Page(html.parser.HTMLParser):
    """Cells (class, title, text, the row's data-name and the table's enclosing heading id), ids, links."""

    def __init__(self):
        super().__init__()
        self.cells, self.ids, self.hrefs = [], set(), []
        self.heading, self.row, self.cell = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("h2", "h3") and "id" in a:
            self.heading = a["id"]
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "tr":
            self.row = a.get("data-name")
        if tag == "td" and a.get("class") in ("s", "u", "q", "a"):
            self.cell = {"class": a["class"], "title": a.get("title"), "text": "", "row": self.row,
                         "heading": self.heading}
            self.cells.append(self.cell)

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


class GridTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bpfprobe-grid-")
        fixture(cls.dir)
        grid.write(cls.dir, [cls.dir])
        with open(os.path.join(cls.dir, "grid.html")) as f:
            cls.html = f.read()
        with open(os.path.join(cls.dir, "grid.md")) as f:
            cls.md = f.read()
        cls.page = Page()
        cls.page.feed(cls.html)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def cells(self, heading, row):
        return [c for c in self.page.cells if c["heading"] == heading and c["row"] == row]

    def test_every_cell_has_a_hover_text(self):
        self.assertGreater(len(self.page.cells), 30)
        for c in self.page.cells:
            self.assertTrue(c["title"] and c["title"].strip(), f"empty hover: {c}")

    def test_colour_per_status(self):
        kprobe = self.cells("program-types", "program_types kprobe")
        self.assertEqual([c["class"] for c in kprobe], ["q", "q", "a"])
        self.assertIn("not permitted", kprobe[0]["title"])
        self.assertIn("EPERM", kprobe[0]["title"])
        ringbuf = self.cells("map-types", "map_types ringbuf")
        self.assertEqual([c["class"] for c in ringbuf], ["u", "s", "a"])
        self.assertIn("no report from this kernel", ringbuf[2]["title"])
        # A fact the kernel does not define is grey, with its own hover text.
        rdonly = self.cells("kfuncs", "kfuncs bpf_rdonly_cast")
        self.assertEqual([c["class"] for c in rdonly], ["a", "s", "a"])
        self.assertIn("not defined", rdonly[0]["title"])

    def test_compat_hover_lists_tiers_and_unavailable_is_not_green(self):
        dyn = self.cells("compat", "compat dynptr_size")
        self.assertEqual([c["class"] for c in dyn], ["u", "s", "a"])
        self.assertEqual(dyn[0]["text"], "unavailable")
        self.assertIn("kfunc: unsupported — no bpf_dynptr_size", dyn[0]["title"])
        self.assertIn("for raw_tracepoint", dyn[0]["title"])
        xdp = self.cells("attach", "attach xdp")
        self.assertIn("bpf_link: unsupported — no xdp link", xdp[0]["title"])
        self.assertIn("td.u{background:#f4c7c3}", self.html)

    def test_differs_view_has_only_rows_that_change(self):
        new = {c["row"] for c in self.page.cells if c["heading"] == "new-in-6-1"}
        changed = {c["row"] for c in self.page.cells if c["heading"] == "changed"}
        self.assertEqual(new, {"kfuncs bpf_rdonly_cast", "kfuncs bpf_dynptr_from_skb"})
        self.assertEqual(changed, {"map_types ringbuf", "compat dynptr_size"})
        # The differs view comes before the full sections.
        self.assertLess(self.html.index("id='differs'"), self.html.index("id='program-types'"))

    def test_contents_links_resolve_and_nothing_links_outside(self):
        local = [h[1:] for h in self.page.hrefs if h.startswith("#")]
        self.assertIn("differs", local)
        self.assertIn("kfuncs", local)
        for target in local:
            self.assertIn(target, self.page.ids)
        self.assertEqual([h for h in self.page.hrefs if not h.startswith("#")], [])
        self.assertIn("<span class=commit title='upstream commit 457f44363a88'>5.8</span>", self.html)
        # No upstream record: the first kernel of the matrix that has it, marked as such.
        self.assertIn("<i title='not in the facts tables: the first kernel of this matrix that has it'>new in 6.1</i>",
                      self.html)

    def test_filter_box_and_sticky_headers(self):
        self.assertIn("<input id=filter", self.html)
        self.assertIn("querySelectorAll('tr[data-name]')", self.html)
        self.assertIn("thead th{position:sticky;top:0", self.html)

    def test_markdown_has_contents_and_differs_view(self):
        self.assertIn("- [Differs between kernels](#differs-between-kernels)", self.md)
        self.assertIn("### New in 6.1 (6.1)", self.md)
        self.assertIn("| map_types/`ringbuf` | 5.8 `457f44363a88` | ❌ | ✅ | – |",
                      self.md)
        self.assertNotIn("](http", self.md)

    def test_headless_screenshot(self):
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser:
            self.skipTest("no chromium (scripts/install-deps.sh installs it)")
        png = os.path.join(self.dir, "grid.png")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,900", f"--screenshot={png}", "file://" + os.path.join(self.dir, "grid.html")],
                       check=True, capture_output=True, timeout=120)
        with open(png, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(data), 10000)


if __name__ == "__main__":
    unittest.main()
