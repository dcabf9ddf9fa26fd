"""Which test executables run in a guest (matrix/tests.tsv) and what their gtest output says."""

import fnmatch
import json
import os
import sys

import expect


def load_test_rules(path):
    """Rows of matrix/tests.tsv: (kernel pattern, executable glob, filter, reason)."""
    rows = []
    if os.path.exists(path):
        for lineno, line in enumerate(open(path), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.rstrip("\n").split("\t") if c.strip()]
            if len(cells) != 4:
                sys.exit(f"{path}:{lineno}: expected kernel, executable, filter, reason (tab-separated)")
            rows.append(cells)
    return rows


def plan_tests(rules, name, release, executables):
    """[(executable name, gtest filter)] for one kernel, and {executable: skip reason}.

    A rule's filter `*` leaves the executable out; anything else is a gtest pattern list excluded
    from the run (joined into one negative --gtest_filter)."""
    version = expect.parse_version(release) or (0, 0)
    plan, skipped = [], {}
    for exe in executables:
        base = os.path.basename(exe)
        excluded = []
        for k, pattern, filt, reason in rules:
            if not (fnmatch.fnmatchcase(base, pattern) and expect.Exceptions.kernel_matches(k, name, version)):
                continue
            if filt == "*":
                skipped[base] = reason
                break
            excluded.append(filt)
        if base not in skipped:
            plan.append((base, "-" + ":".join(excluded) if excluded else ""))
    return plan, skipped


def test_counts(kdir, name, rc):
    """{passed, failed, skipped, rc, failures: [names]} from the gtest JSON (or the log if none)."""
    out = {"passed": 0, "failed": 0, "skipped": 0, "rc": rc, "failures": []}
    path = os.path.join(kdir, "tests", f"{name}.json")
    try:
        data = json.load(open(path))
        for suite in data.get("testsuites", []):
            for t in suite.get("testsuite", []):
                full = f"{suite['name']}.{t['name']}"
                if t.get("failures"):
                    out["failed"] += 1
                    out["failures"].append(full)
                elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                    out["skipped"] += 1
                else:
                    out["passed"] += 1
    except (OSError, ValueError):
        out["note"] = "no gtest JSON (the binary crashed or was killed)"
    if rc != 0 and not out["failed"]:
        out["failed"] += 1
        out["failures"].append(f"(exit status {rc})")
    return out


def guest_times(kdir):
    """{step: seconds} from the guest's times.txt (boot: kernel start to /init)."""
    times = {}
    path = os.path.join(kdir, "times.txt")
    if os.path.exists(path):
        for line in open(path):
            parts = line.split()
            if len(parts) == 3:
                try:
                    times[parts[0]] = round(float(parts[2]) - float(parts[1]), 1)
                except ValueError:
                    pass
    return times
