"""Everything for one kernel: resolve, fetch, initramfs, boot, collect."""

import os
import shutil
import subprocess
import time

from .guest_tests import guest_times, plan_tests, test_counts
from .boot import boot, collect, tail
from .common import Failure, log
from .fetch import fetch, locate
from .initramfs import build_initramfs
from .kernels import config_value, kernel_version

# `bpfprobe check` exits 1 (a program is unsupported) or 3 (unknown): verdicts, not a failed run.
CHECK_VERDICT_EXITS = (1, 3)


# An arm64 guest runs the test executables in 10-15 min under TCG (about twice an amd64 guest).
ARM64_TESTS_TIMEOUT = 1500


def guest_limit(args, entry, tests):
    """Seconds for the whole guest: --timeout, at least ARM64_TESTS_TIMEOUT for an arm64 guest with test
    executables."""
    if entry["arch"] == "arm64" and tests:
        return max(args.timeout, ARM64_TESTS_TIMEOUT)
    return args.timeout


def run_kernel(apt, args, entry, payload):
    tag = entry["name"]
    kdir = os.path.join(args.out, tag)
    shutil.rmtree(kdir, ignore_errors=True)
    os.makedirs(kdir)
    result = {"name": tag, "suite": entry["suite"], "series": entry["series"], "arch": entry["arch"],
              "flavour": entry["flavour"], "status": "ok", "reason": None, "warnings": [],
              "packages": [], "times": {}}
    try:
        res = entry["resolved"]
        result["packages"] = [{"name": n, "version": v} for n, v in res["packages"]]
        result["version"] = res["version"]
        for dep in res["missing"]:
            if "-modules-" in dep and entry["no_modules"]:
                continue  # the guest loads no module: nothing is missing
            if "-modules-" in dep and entry["modules_optional"]:
                result["warnings"].append(f"{dep} is not in {entry['suite']}: booting without modules")
            elif "-base-" in dep:
                result["warnings"].append(f"{dep} is not in {entry['suite']}: no kernel config")
            else:
                raise Failure("download-failed", f"{dep} (needed by {res['image']}) is not in {entry['suite']}")
        t = time.monotonic()
        tree, cached = fetch(apt, args.cache, tag, res)
        result["times"]["download"] = round(time.monotonic() - t, 1)
        result["cached"] = cached
        vmlinuz, release, moddir, config = locate(tree)
        result["release"] = release
        result["config_debug_info_btf"] = config_value(config, "CONFIG_DEBUG_INFO_BTF")
        if result["config_debug_info_btf"] not in (None, "y"):
            result["warnings"].append("kernel config lacks CONFIG_DEBUG_INFO_BTF=y")

        tests, skipped = plan_tests(payload["test_rules"], tag, release, payload["tests"])
        result["tests_skipped"] = skipped
        result["tests_filter"] = {n: f for n, f in tests if f}
        t = time.monotonic()
        initrd = os.path.join(kdir, "initramfs.cpio")
        modules = [] if entry["no_modules"] else args.modules
        if entry["arch"] == "arm64":  # the results port, a module before 6.12 (boot.py)
            modules = ["virtio_pci", "virtio_console"] + modules
        plan = build_initramfs(initrd, release, moddir, config, modules, payload, args.test_timeout, tests)
        result["modules"] = plan
        result["times"]["initramfs"] = round(time.monotonic() - t, 1)
        result["initramfs_mb"] = round(os.path.getsize(initrd) / 2**20, 1)
        for name in plan["missing"] if moddir else []:
            if name != "netkit" or kernel_version(release) >= (6, 7):  # netkit is new in 6.7
                result["warnings"].append(f"module {name} not found")
        log(tag, f"initramfs {result['initramfs_mb']} MB in {result['times']['initramfs']} s; "
                 f"modules: load {plan['load']} builtin {plan['builtin']} missing {plan['missing']}")

        t = time.monotonic()
        limit = guest_limit(args, entry, tests)
        in_time, rc = boot(vmlinuz, initrd, kdir, limit, args.accel, args.cpu, entry["arch"])
        result["times"]["qemu"] = round(time.monotonic() - t, 1)
        result["qemu_rc"] = rc
        sections, done = collect(kdir)
        result["sections"] = sections
        result["guest_times"] = guest_times(kdir)
        if not args.keep_initramfs:
            os.remove(initrd)
        if not in_time:
            raise Failure("timeout", f"guest did not finish within {limit} s")
        if not sections:
            raise Failure("boot-failed", f"qemu exited (rc={rc}) before the guest reported anything")
        if not done:
            raise Failure("crashed", f"qemu exited (rc={rc}) after {list(sections)[-1]}, before ===DONE===")
        setup = open(os.path.join(kdir, "setup.log")).read() if "setup.log" in sections else ""
        for line in setup.splitlines():
            if "FAILED" in line:
                result["warnings"].append(line)
        result["tests"] = {n: test_counts(kdir, n, sections.get(f"tests/{n}.log", -1)) for n, _ in tests}
        bad = [s for s, rc in sections.items()
               if rc != 0 and not s.endswith(".stderr") and not s.startswith("tests/")
               and not (s.startswith("check") and rc in CHECK_VERDICT_EXITS)]
        if payload["bpfprobe"]:
            bad += [f"{s} (missing)" for s in ("report.json", "report-warm.json") if s not in sections]
            if payload["objects"]:
                bad += [f"{s} (missing)" for s in ("check.json", "check-static.json") if s not in sections]
        if bad:
            raise Failure("payload-failed", "non-zero exit: " + ", ".join(f"{s} rc={sections.get(s, '-')}" for s in bad))
    except Failure as e:
        result["status"], result["reason"] = e.status, str(e)
    except subprocess.CalledProcessError as e:
        result["status"], result["reason"] = "error", f"{' '.join(e.cmd)}: {(e.stderr or '').strip()[-500:]}"
    except Exception as e:  # report, never lose the other kernels
        result["status"], result["reason"] = "error", f"{type(e).__name__}: {e}"
    for w in result["warnings"]:
        log(tag, f"warning: {w}")
    if result["status"] != "ok":
        log(tag, f"{result['status'].upper()}: {result['reason']}", always=True)
        if result["status"] in ("timeout", "boot-failed", "crashed", "payload-failed"):
            log(tag, "console tail:\n" + tail(os.path.join(kdir, "console.log")), always=True)
    g = result.get("guest_times", {})
    log(tag, f"{'booted' if result['status'] == 'ok' else result['status']}: {result.get('release', '?')} "
             f"qemu {result['times'].get('qemu', '-')} s (kernel boot {g.get('boot', '-')} s, "
             f"bpfprobe {g.get('bpfprobe', '-')} s)", always=True)
    return result
