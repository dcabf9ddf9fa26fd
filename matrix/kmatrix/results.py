"""Checks over the collected results (expectations, bpftool, cold/warm, static/trial, tests) and the
printed summary."""

import json
import os
import time

import expect

from . import consistency


def apply_checks(args, results, payloads):
    """Expectations, bpftool cross-check and test counts for every kernel that ran; sets statuses.
    PAYLOADS: {arch: payload}; `check --target` runs the native (host) CLI on every arch's snapshot."""
    payload = payloads["amd64"]
    ran = [r for r in results if r.get("sections")]
    reports = []
    for r in ran:
        try:
            reports.append(json.load(open(os.path.join(args.out, r["name"], "report.json"))))
        except (OSError, ValueError):
            pass
    first_kernels = expect.known_first_kernels(reports)
    exc, bexc = expect.load_exceptions()
    seen = []
    for r in ran:
        kdir = os.path.join(args.out, r["name"])
        checks = expect.check_kernel(kdir, r["name"], first_kernels, exc, bexc, r.get("arch", "amd64"))
        if not payload["bpfprobe"]:
            checks["expectations"] = {"failures": [], "excepted": [], "note": "no bpfprobe in the payload"}
            checks["bpftool"] = {"failures": [], "excepted": [], "note": "no bpfprobe in the payload"}
        r["checks"] = {k: checks[k] for k in ("expectations", "bpftool")}
        r["checks"]["cold-warm"] = consistency.cold_warm(kdir)
        if payload["objects"]:
            r["checks"]["static-trial"] = consistency.static_vs_trial(kdir)
            if payload["bpfprobe"]:
                guest_objects = payloads.get(r.get("arch", "amd64"), payload)["objects"]
                r["checks"]["target-guest"] = consistency.target_vs_guest(kdir, payload["bpfprobe"], guest_objects)
        r["upstream_version"] = checks["version"]
        if checks["version"]:
            seen.append((r["name"], expect.parse_version(checks["version"])))
        problems = []
        failed_tests = {n: c for n, c in r.get("tests", {}).items() if c["failed"]}
        if failed_tests:
            problems.append(("tests-failed", "failed tests: " + "; ".join(
                f"{n}: {', '.join(c['failures'][:5])}" + (" …" if len(c["failures"]) > 5 else "")
                for n, c in failed_tests.items())))
        for check, status in (("expectations", "expectations-failed"), ("bpftool", "bpftool-mismatch"),
                              ("cold-warm", "cache-mismatch"), ("static-trial", "check-mismatch"),
                              ("target-guest", "target-mismatch")):
            n = len(r["checks"].get(check, {"failures": []})["failures"])
            if n:
                problems.append((status, f"{n} {check} failure{'s' if n > 1 else ''}"))
        if problems and r["status"] == "ok":
            r["status"] = problems[0][0]
            r["reason"] = "; ".join(p[1] for p in problems)
        with open(os.path.join(kdir, "result.json"), "w") as f:
            json.dump(r, f, indent=1)
    return exc.unused(seen) + bexc.unused(seen)


def expected_seconds(out):
    """Sort key: a kernel's guest time in the previous run in OUT, else its version (newer kernels
    take longer under TCG)."""
    previous = {}
    try:
        for k in json.load(open(os.path.join(out, "summary.json"))).get("kernels", []):
            previous[k["name"]] = k.get("times", {}).get("qemu")
    except (OSError, ValueError):
        pass

    def key(entry):
        v = expect.parse_version(entry["resolved"]["version"]) or (0, 0)
        return (previous.get(entry["name"]) or 0, v)
    return key


def status_line(r):
    t, g = r.get("times", {}), r.get("guest_times", {})
    tests = " ".join(f"{n} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in r.get("tests", {}).items())
    checks = r.get("checks", {})
    chk = " ".join(f"{k} {len(v['failures'])}" + (f"(+{len(v['excepted'])} exc)" if v["excepted"] else "")
                   for k, v in checks.items())
    return (f"{r['name']:6} {r['status']:19} {r.get('release', '-'):22} {r.get('version', '-'):20} "
            f"boot {g.get('boot', '-'):>4}s bpfprobe {g.get('bpfprobe', '-'):>4}s "
            f"qemu {t.get('qemu', '-'):>5}s  tests(p/f/s) {tests or '-'}  fails: {chk or '-'}")


def print_results(args, results, unused, started):
    print(f"\nkernel status              release                package version      times and results")
    for r in results:
        print(status_line(r))
    checks = passed = 0
    for r in results:
        items = [("boot", r["status"] not in BOOT_FAILURES and r.get("sections") is not None)]
        items += [(f"test {n}", not c["failed"]) for n, c in r.get("tests", {}).items()]
        items += [(k, not v["failures"]) for k, v in r.get("checks", {}).items()]
        checks += len(items)
        passed += sum(ok for _, ok in items)
    failed = [r for r in results if r["status"] != "ok"]
    for r in failed:
        print(f"\n=== {r['name']}: {r['status']}: {r.get('reason')}")
        for n, c in r.get("tests", {}).items():
            if c["failed"]:
                print(f"  {n}: failed: {', '.join(c['failures'])} (log: {os.path.join(args.out, r['name'], 'tests', n + '.log')})")
        for k, v in r.get("checks", {}).items():
            for line in v["failures"]:
                print(f"  {k}: {line}")
    for line in unused:
        print(f"warning: unused exception {line}")
    print(f"\nmatrix: {len(results)} kernels, {len(results) - len(failed)} ok, {time.time() - started:.0f} s; "
          f"results in {args.out} (summary.json, grid.html, grid.md)"
          + (f"; FAILED: {', '.join(r['name'] for r in failed)}" if failed else ""))
    print(f"{passed} passed, {checks - passed} failed")
    return 1 if failed or checks != passed else 0


BOOT_FAILURES = ("resolve-failed", "download-failed", "payload-error", "boot-failed", "crashed", "timeout",
                 "payload-failed", "error")
