#!/usr/bin/env python3
"""The two HTML pages in a real headless browser (Debian's chromium driven by its chromedriver through
python3-selenium; scripts/install-deps.sh installs all three). Both pages are generated from fixture
data by the code (matrix/grid.py: the kernel grid, matrix/object_grid.py: the object grid), so a broken
generator fails here too. On each page: typing into the filter narrows the rows to the matching ones,
hovering a cell shows a popup with the cell's reason and evidence as the fixture data has them, the
console logs no error; on the kernel grid every contents link lands on its heading. Copies of the kernel
grid with the filter, the popup or the whole script broken must fail those checks (the proof that they
can fail stays in CI).

    browser_test.py [-v]     # exit 0 passed, 77 skipped (no chromium or chromedriver); ctest Grid.browser
"""

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "matrix"))
sys.path.insert(0, HERE)
import grid  # noqa: E402
import grid_test  # noqa: E402
import object_grid  # noqa: E402

SKIP = 77
# Debian's interpreter: the one python3-selenium installs into (the build may use another, e.g. pyenv's).
DEBIAN_PYTHON = "/usr/bin/python3"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# The window: short enough that contents links must scroll (check_hover makes it as tall as the page).
WIDTH, HEIGHT = 1200, 700


def selenium_or_exit():
    try:
        import selenium  # noqa: F401
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.access(DEBIAN_PYTHON, os.X_OK):
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, "-B", os.path.abspath(__file__)] + sys.argv[1:])
        sys.exit("browser_test: chromium and chromedriver are installed but selenium is not importable "
                 "(python3-selenium; scripts/install-deps.sh installs it)")


def isolate():
    """Runs the test again as PID 1 of its own pid and mount namespaces with a tmpfs on /tmp (as root,
    when util-linux unshare is there): killed, even by SIGKILL, it takes chromium, chromedriver and every
    temp file with it. Otherwise the test runs as it is and cleans up when it ends."""
    if os.environ.get("BPFPROBE_BROWSER_ISOLATED"):
        # What lives under /tmp and the test needs (a checkout or build there, as in a fresh CI clone) is
        # bound back over the tmpfs from the hidden /tmp, reached through a descriptor opened before.
        needed = {REPO, os.path.abspath(__file__), sys.executable, os.getcwd()}
        needed |= {os.path.abspath(a) for a in sys.argv[1:] if os.path.exists(a)}
        tops = sorted({p.split("/")[2] for p in needed if p.startswith("/tmp/") and len(p.split("/")) > 2})
        # (A descriptor of each directory itself: one of /tmp would lead into the tmpfs once it is mounted.)
        hidden = {top: os.open(f"/tmp/{top}", os.O_PATH | os.O_DIRECTORY) for top in tops}
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1g", "bpfprobe-browser", "/tmp"], check=True)
        for top, fd in hidden.items():
            os.makedirs(f"/tmp/{top}")
            subprocess.run(["mount", "--no-canonicalize", "--rbind", f"/proc/{os.getpid()}/fd/{fd}", f"/tmp/{top}"],
                           check=True)
            os.close(fd)
        return
    unshare = shutil.which("unshare")
    ns = ["--pid", "--mount", "--fork", "--kill-child", "--mount-proc"]
    # (A root without CAP_SYS_ADMIN, as in some containers, cannot make them: run as it is there too.)
    if os.geteuid() != 0 or not unshare or subprocess.run([unshare] + ns + ["true"]).returncode != 0:
        return
    os.environ["BPFPROBE_BROWSER_ISOLATED"] = "1"
    os.execv(unshare, [unshare] + ns + [sys.executable, "-B", os.path.abspath(__file__)] + sys.argv[1:])


def die_with_parent():
    """In chromedriver's child before exec: killed when the test dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def object_fixture(root):
    """`bpfprobe check` results of two kernels (k1 with both runs, k2 with the trial only) and one
    kernel without results; returns {kernel name: (trial programs, static programs)} by (object, program)."""
    def prog(name, section, status, reason="", evidence=""):
        p = {"name": name, "section": section, "status": status}
        if reason:
            p["reason"] = reason
        if evidence:
            p["evidence"] = evidence
        return p

    def check(progs_by_obj):
        return {"objects": [{"path": f"/opt/objs/{obj}", "status": "supported", "programs": progs}
                            for obj, progs in progs_by_obj.items()]}

    results = {
        "k1": (check({"app.bpf.o": [prog("on_xdp", "xdp", "supported", "loaded"),
                                    prog("on_open", "fentry/do_sys_openat2", "unknown",
                                         "trial load refused by lockdown", "EPERM; lockdown=integrity"),
                                    prog("use_ringbuf", "tracepoint/syscalls/sys_enter_read", "unsupported",
                                         "map type ringbuf missing", "map create: EINVAL")],
                      "net.bpf.o": [prog("tc_ingress", "tc", "supported", "loaded")]}),
               check({"app.bpf.o": [prog("on_xdp", "xdp", "supported", "no feature missing"),
                                    prog("on_open", "fentry/do_sys_openat2", "supported", "BTF has do_sys_openat2"),
                                    prog("use_ringbuf", "tracepoint/syscalls/sys_enter_read", "unsupported",
                                         "kernel BTF lacks BPF_MAP_TYPE_RINGBUF", "enum bpf_map_type")],
                      "net.bpf.o": [prog("tc_ingress", "tc", "supported", "no feature missing")]})),
        "k2": (check({"app.bpf.o": [prog("on_xdp", "xdp", "supported", "loaded", "prog fd 7"),
                                    prog("use_ringbuf", "tracepoint/syscalls/sys_enter_read", "supported",
                                         "loaded", "prog fd 9")]}), None),
    }
    summary = {"started": "2026-01-01T00:00:00Z",
               "kernels": [{"name": "k1", "release": "6.1.0-test"}, {"name": "k2", "release": "7.0.0-test"},
                           {"name": "k3"}]}
    with open(os.path.join(root, "summary.json"), "w") as f:
        json.dump(summary, f)
    data = {}
    for k, (trial, static) in results.items():
        os.makedirs(os.path.join(root, k))
        for name, doc in (("check.json", trial), ("check-static.json", static)):
            if doc is not None:
                with open(os.path.join(root, k, name), "w") as f:
                    json.dump(doc, f)
        data[k] = tuple({(os.path.basename(o["path"]), p["name"]): p for o in (doc or {"objects": []})["objects"]
                         for p in o["programs"]} for doc in (trial, static))
    return data


def squash(text):
    return " ".join((text or "").split())


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        cls.dir = tempfile.mkdtemp(prefix="bpfprobe-browser-")
        kernel_dir, object_dir = os.path.join(cls.dir, "kernel"), os.path.join(cls.dir, "object")
        os.makedirs(kernel_dir)
        os.makedirs(object_dir)
        grid_test.fixture(kernel_dir)
        grid.write(kernel_dir, [kernel_dir])
        cls.kernel_page = os.path.join(kernel_dir, "grid.html")
        _, cls.kernel_reports = grid.load(kernel_dir)
        cls.object_data = object_fixture(object_dir)
        object_grid.write(object_dir, [object_dir])
        cls.object_page = os.path.join(object_dir, "check-grid.html")

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        # --no-sandbox: chromium refuses to run as root with its sandbox. No network: file:// pages only,
        # and none of chromium's own background fetches.
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--user-data-dir={os.path.join(cls.dir, 'profile')}", f"--window-size={WIDTH},{HEIGHT}",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                    "--disable-component-update", "--disable-default-apps"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(CHROMEDRIVER, popen_kw={"preexec_fn": die_with_parent})
        try:
            cls.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            shutil.rmtree(cls.dir)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        shutil.rmtree(cls.dir)

    # ----------------------------------------------------------------------- the checks

    def open(self, path):
        self.driver.set_window_size(WIDTH, HEIGHT)
        self.driver.get("file://" + path)
        self.driver.get_log("browser")  # drop what an earlier page left
        self.assertEqual(self.driver.execute_script("return document.readyState"), "complete")

    def rows(self):
        """[(data-name, displayed)] of every filterable row, as the browser renders it."""
        from selenium.webdriver.common.by import By
        return [(tr.get_attribute("data-name"), tr.is_displayed())
                for tr in self.driver.find_elements(By.CSS_SELECTOR, "tr[data-name]")]

    def check_filter(self, query, must_match):
        """Typing QUERY hides every row whose name lacks it and keeps the rest; MUST_MATCH (a row name
        from the fixture data) is among those kept; clearing the box shows every row again."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        before = self.rows()
        self.assertEqual([n for n, shown in before if not shown], [], "rows hidden before any filter")
        matching = sorted(n for n, _ in before if query in n)
        self.assertIn(must_match, matching)
        self.assertLess(len(matching), len(before), "the query matches every row: it narrows nothing")
        box = self.driver.find_element(By.ID, "filter")
        box.send_keys(query)
        self.assertEqual(sorted(n for n, shown in self.rows() if shown), matching, f"rows shown after typing {query!r}")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.BACKSPACE)
        self.assertEqual([n for n, shown in self.rows() if not shown], [], "rows hidden after clearing the filter")

    def cells(self):
        """[(row name, kernel column, cell, hover text in the HTML)] of every data cell of a filterable row."""
        return self.driver.execute_script("""
            var out = [];
            document.querySelectorAll('tr[data-name]').forEach(function (tr) {
              var tds = Array.prototype.filter.call(tr.children, function (c) { return c.tagName == 'TD'; });
              tds.forEach(function (td, i) {
                if (td.hasAttribute('title')) out.push([tr.dataset.name, i, td, td.getAttribute('title')]);
              });
            });
            return out;""")

    def hover(self, element):
        """Moves the pointer onto ELEMENT; returns the popup's text if it is shown (beside ELEMENT, inside
        the window), else None."""
        from selenium.webdriver.common.action_chains import ActionChains
        scrolled = self.driver.execute_script("""
            var r = arguments[0].getBoundingClientRect();
            // In the window and not under a sticky header or the filter box.
            var top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth &&
                arguments[0].contains(top)) return false;
            arguments[0].scrollIntoView({block: 'center'});
            return true;""", element)
        if scrolled:
            # After a scroll chromium re-hovers what lies under the pointer's old place a frame later: let
            # that pass before the pointer moves, or its mouseover lands after the move's. (Slow in headless
            # chromium, about a second; check_hover's window makes it rare.)
            self.driver.execute_async_script("var done = arguments[0]; "
                                             "requestAnimationFrame(function () { requestAnimationFrame(done); });")
        # A short move (the default takes 250 ms): the pointer still passes the cells between.
        ActionChains(self.driver, duration=20).move_to_element(element).perform()
        shown, text, cell, box, height = self.driver.execute_script("""
            var tip = document.getElementById('tip');
            return [!tip.hidden && getComputedStyle(tip).display != 'none', tip.innerText,
                    arguments[0].getBoundingClientRect(), tip.getBoundingClientRect(), innerHeight];""", element)
        if not shown:
            return None
        self.assertTrue(abs(box["top"] - cell["bottom"]) < 4 or abs(box["bottom"] - cell["top"]) < 4,
                        f"popup {box} not beside its cell {cell}")
        self.assertTrue(0 <= box["top"] and box["bottom"] <= height, f"popup {box} outside the window")
        return text

    def check_hover(self, first_cell, expected):
        """Every cell with a hover text, hovered: the popup shows that text, and for the cells EXPECTED
        (row name, kernel index) returns strings for, each of them; the popup hides off the cells.
        FIRST_CELL: index of a row's first kernel column."""
        from selenium.webdriver.common.by import By
        cells = self.cells()
        self.assertGreater(len(cells), 5)
        # A window as tall as the page: hovering then needs no scrolling.
        self.driver.set_window_size(WIDTH, self.driver.execute_script(
            "return document.scrollingElement.scrollHeight + outerHeight - innerHeight + 2"))
        checked = 0
        for name, column, td, title in cells:
            shown = self.hover(td)
            self.assertIsNotNone(shown, f"no popup over {name}, column {column}")
            self.assertEqual(squash(shown), squash(title), f"popup over {name}, column {column}")
            if column >= first_cell:
                for want in expected(name, column - first_cell):
                    self.assertIn(squash(want), squash(shown), f"popup over {name}, kernel {column - first_cell}")
                    checked += 1
        self.assertGreater(checked, 10, "hover texts compared with the data")
        self.assertIsNone(self.hover(self.driver.find_element(By.TAG_NAME, "h1")), "popup stays off the cells")
        # The last cell on the window's bottom edge: its popup opens above it (hover() checks it is inside).
        name, _, last, title = cells[-1]
        self.driver.set_window_size(WIDTH, self.driver.execute_script(
            "scrollTo(0, 0); return Math.ceil(arguments[0].getBoundingClientRect().bottom) + outerHeight - innerHeight",
            last))
        self.assertEqual(squash(self.hover(last)), squash(title), f"popup over {name} at the window's bottom")
        self.assertTrue(self.driver.execute_script(
            "return document.getElementById('tip').getBoundingClientRect().bottom <= "
            "arguments[0].getBoundingClientRect().top + 1", last), "popup not above the cell at the window's bottom")
        self.driver.set_window_size(WIDTH, HEIGHT)  # (open() restores it too, after a failed check)

    def check_contents(self):
        """Each contents link, clicked, puts its heading at the top of the window (or the page is scrolled
        to its end) and the location's hash names an existing heading."""
        from selenium.webdriver.common.by import By
        links = self.driver.find_elements(By.CSS_SELECTOR, "nav a[href^='#']")
        self.assertGreater(len(links), 5)
        for link in links:
            target = link.get_attribute("href").split("#", 1)[1]
            self.driver.execute_script("window.scrollTo(0, 0)")
            link.click()
            where = self.driver.execute_script("""
                var h = document.getElementById(arguments[0]);
                var end = document.scrollingElement.scrollHeight - window.innerHeight;
                return [location.hash, h && h.tagName, h && h.getBoundingClientRect().top, window.innerHeight,
                        window.scrollY >= end - 1];""", target)
            hash_, tag, top, height, at_end = where
            self.assertEqual(hash_, "#" + target)
            self.assertIn(tag, ("H2", "H3"), f"#{target} is no heading")
            self.assertTrue(-1 < top < height, f"#{target} not in the window (top {top})")
            self.assertTrue(top < 1 or at_end, f"#{target} not at the window's top (top {top})")

    def check_console(self):
        errors = [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        self.assertEqual(errors, [], "console errors")

    # ----------------------------------------------------------------------- expected hover texts from the data

    def kernel_expected(self, name, kernel):
        """Strings the popup of NAME's cell in kernel KERNEL must hold, read from the fixture reports."""
        info, report = self.kernel_reports[kernel]
        if not report:
            return [info["status"]]
        section, fact_name = name.split(" ", 1)
        value = report.get(section, {}).get(fact_name)
        if section in ("compat", "attach") and value:
            out = [value.get("chosen") or value.get("tier") or "none"]
            for option in value.get("candidates") or value.get("tiers"):
                out.append(f"{option.get('path', option.get('tier'))}: {option['status']}")
                out += [option[k] for k in ("reason", "errno") if k in option]
            return out
        if section == "helpers" or not value:
            return []
        return [value[k] for k in ("status", "reason", "errno", "evidence") if k in value]

    def object_expected(self, name, kernel):
        """The same for the object grid: a column per kernel with results (k3 has none)."""
        trial, static = self.object_data[list(self.object_data)[kernel]]
        key = next(k for runs in self.object_data.values() for k in runs[0]
                   if name.startswith(f"{k[0]} {k[1]} ".lower()))
        t, s = trial.get(key), static.get(key)
        shown = [(t, "trial")]
        if (s or {}).get("status") != (t or {}).get("status"):
            shown.append((s, "static"))  # the page adds the static run only where its status differs
        out = []
        for p, label in shown:
            out.append(f"{label}: {p['status'] if p else 'absent'}")
            out += [p[k] for k in ("reason", "evidence") if p and k in p]
        return out

    # ----------------------------------------------------------------------- the tests

    def test_kernel_grid(self):
        self.open(self.kernel_page)
        self.check_filter("ringbuf", "map_types ringbuf")
        self.check_hover(2, self.kernel_expected)
        self.check_contents()
        self.check_console()

    def test_object_grid(self):
        self.open(self.object_page)
        self.check_filter("fentry", "app.bpf.o on_open fentry/do_sys_openat2")
        self.check_hover(3, self.object_expected)
        self.check_console()

    def broken_copy(self, name, old, new):
        """A copy of the kernel grid whose script has OLD replaced by NEW."""
        with open(self.kernel_page) as f:
            page = f.read()
        self.assertIn(old, page)
        path = os.path.join(os.path.dirname(self.kernel_page), name)
        with open(path, "w") as f:
            f.write(page.replace(old, new))
        return path

    def test_broken_filter_is_caught(self):
        self.open(self.broken_copy("no-filter.html", "? '' : 'none'", "? '' : ''"))
        with self.assertRaises(AssertionError):
            self.check_filter("ringbuf", "map_types ringbuf")

    def test_broken_popup_is_caught(self):
        self.open(self.broken_copy("no-popup.html", "tip.hidden = false;", ""))
        with self.assertRaises(AssertionError):
            self.check_hover(2, self.kernel_expected)

    def test_script_error_is_caught(self):
        self.open(self.broken_copy("script-error.html", "tip.hidden = false;", "tip.hidden = undefinedName;"))
        self.hover(self.driver.find_element("css selector", "td[title]"))
        with self.assertRaises(AssertionError):
            self.check_console()


if __name__ == "__main__":
    if not CHROMIUM or not CHROMEDRIVER:
        print("browser_test: SKIP: no chromium or no chromedriver on PATH (Debian packages chromium and "
              "chromium-driver; scripts/install-deps.sh installs them)")
        sys.exit(SKIP)
    selenium_or_exit()
    isolate()
    unittest.main()
