#!/usr/bin/env python3
"""matrix/kmatrix/fetch.py against a local fake package source (no network): two jobs fetching the same
kernel package at once (the 7.3 and 7.3-nomod entries of kernels.txt, or two runs sharing a cache)
download and extract it once, and a failed or killed fetch leaves nothing a later one trips on.

    fetch_test.py [-v]        # exit 0 passed; ctest label unit
"""

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "matrix"))
from kmatrix import fetch  # noqa: E402
from kmatrix.common import Failure  # noqa: E402

RES = {"image": "linux-image-9.9.9-test-amd64", "version": "9.9.9-1",
       "packages": [("linux-image-9.9.9-test-amd64", "9.9.9-1")], "missing": []}
OVERLAP_WAIT_S = 1.0  # how long a download waits for a second one to start beside it


def build_deb(workdir):
    """A real .deb with boot/vmlinuz-9.9.9-test (what locate() looks for), built by dpkg-deb."""
    root = os.path.join(workdir, "pkg")
    os.makedirs(os.path.join(root, "DEBIAN"))
    os.makedirs(os.path.join(root, "boot"))
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write("Package: linux-image-9.9.9-test-amd64\nVersion: 9.9.9-1\nArchitecture: amd64\n"
                "Maintainer: test <test@invalid>\nDescription: fake kernel image\n")
    with open(os.path.join(root, "boot", "vmlinuz-9.9.9-test"), "wb") as f:
        f.write(os.urandom(64 * 1024))
    deb = os.path.join(workdir, "linux-image-9.9.9-test-amd64_9.9.9-1_amd64.deb")
    subprocess.run(["dpkg-deb", "-Zgzip", "-b", root, deb], check=True, capture_output=True)
    return deb


class FakeApt:
    """Apt's download() served from a local .deb. Each download waits (up to OVERLAP_WAIT_S) until a
    second one is running beside it, so two unsynchronised fetches surely overlap; `downloads` counts
    them (shared across processes when given a multiprocessing Value)."""

    def __init__(self, deb, downloads=None, fail=False):
        self.deb, self.fail = deb, fail
        self.downloads = downloads or multiprocessing.Value("i", 0)

    def download(self, pkgs, dest):
        os.makedirs(dest, exist_ok=True)
        with self.downloads.get_lock():
            self.downloads.value += 1
        shutil.copy(self.deb, dest)
        if self.fail:
            raise subprocess.CalledProcessError(100, ["apt-get", "download"], stderr="E: connection reset")
        deadline = time.monotonic() + OVERLAP_WAIT_S
        while self.downloads.value < 2 and time.monotonic() < deadline:
            time.sleep(0.01)


def leftovers(cache):
    """Paths in the cache that are neither an extracted tree nor its lock file."""
    out = []
    for top, dirs, files in os.walk(cache):
        rel = os.path.relpath(top, cache)
        if rel.startswith(os.path.join("kernels", "linux-image-")) and not rel.endswith(".partial"):
            dirs[:] = []
            continue
        out += [os.path.join(rel, n) for n in files if not n.endswith(".lock")]
        out += [os.path.join(rel, d) for d in dirs if d.endswith(".partial")]
    return sorted(out)


def fetch_in_child(cache, deb, downloads, results):
    try:
        tree, cached = fetch.fetch(FakeApt(deb, downloads), cache, "child", RES)
        results.put(("ok", tree, cached))
    except Exception as e:  # reported to the parent, which asserts on it
        results.put(("error", f"{type(e).__name__}: {e}", None))


class Fetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="bpfprobe-fetch-test-")
        cls.deb = build_deb(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work)

    def setUp(self):
        self.cache = tempfile.mkdtemp(prefix="cache-", dir=self.work)

    def check_tree(self, tree):
        self.assertTrue(os.path.exists(os.path.join(tree, "packages.json")), tree)
        vmlinuz, release, _, _ = fetch.locate(tree)
        self.assertEqual(release, "9.9.9-test")
        self.assertEqual(os.path.getsize(vmlinuz), 64 * 1024)
        self.assertEqual(leftovers(self.cache), [])

    def test_two_threads_fetch_one_package_once(self):
        apt = FakeApt(self.deb)
        start = threading.Barrier(2)
        results, errors = [], []

        def job(tag):
            start.wait()
            try:
                results.append(fetch.fetch(apt, self.cache, tag, RES))
            except Exception as e:
                errors.append(f"{tag}: {type(e).__name__}: {e}")

        threads = [threading.Thread(target=job, args=(t,)) for t in ("7.3", "7.3-nomod")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(apt.downloads.value, 1, "the package was downloaded more than once")
        self.assertEqual(len({tree for tree, _ in results}), 1)
        self.assertEqual(sorted(cached for _, cached in results), [False, True])
        self.check_tree(results[0][0])

    def test_two_processes_sharing_a_cache_fetch_once(self):
        ctx = multiprocessing.get_context("fork")
        downloads, results = ctx.Value("i", 0), ctx.Queue()
        procs = [ctx.Process(target=fetch_in_child, args=(self.cache, self.deb, downloads, results))
                 for _ in range(2)]
        for p in procs:
            p.start()
        got = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        self.assertEqual([g[0] for g in got], ["ok", "ok"], got)
        self.assertEqual(downloads.value, 1)
        self.check_tree(got[0][1])

    def test_a_failed_download_leaves_nothing_behind(self):
        with self.assertRaises(Failure) as e:
            fetch.fetch(FakeApt(self.deb, fail=True), self.cache, "7.3", RES)
        self.assertEqual(e.exception.status, "download-failed")
        self.assertEqual(leftovers(self.cache), [])
        tree, cached = fetch.fetch(FakeApt(self.deb), self.cache, "7.3", RES)
        self.assertFalse(cached)
        self.check_tree(tree)

    def test_a_killed_fetchs_scratch_is_replaced(self):
        # What a fetch killed midway leaves: a half-extracted tree and a truncated download.
        name = f"{RES['image']}_{RES['version']}"
        partial = os.path.join(self.cache, "kernels", name + ".partial")
        os.makedirs(os.path.join(partial, "boot"))
        open(os.path.join(partial, "boot", "vmlinuz-0.0.0-stale"), "w").close()
        debs = os.path.join(self.cache, "debs", name)
        os.makedirs(debs)
        with open(os.path.join(debs, "linux-image-9.9.9-test-amd64_9.9.9-1_amd64.deb"), "wb") as f:
            f.write(b"!<arch>\ntruncated")
        tree, cached = fetch.fetch(FakeApt(self.deb), self.cache, "7.3", RES)
        self.assertFalse(cached)
        self.check_tree(tree)
        self.assertFalse(os.path.exists(os.path.join(tree, "boot", "vmlinuz-0.0.0-stale")))

    def test_a_second_fetch_is_cached(self):
        apt = FakeApt(self.deb)
        fetch.fetch(apt, self.cache, "7.3", RES)
        tree, cached = fetch.fetch(apt, self.cache, "7.3-nomod", RES)
        self.assertTrue(cached)
        self.assertEqual(apt.downloads.value, 1)
        self.check_tree(tree)


if __name__ == "__main__":
    unittest.main()
