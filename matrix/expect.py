#!/usr/bin/env python3
"""Check matrix results: report facts against their first kernel, and against bpftool.

Used by run.py after each guest; also runs on its own over a finished results directory:

    matrix/expect.py [OUT]          # default build/matrix; exit 1 when a check fails
                                    # (refreshes the checks in OUT/summary.json for grid.py)

Expectations (matrix/exceptions.tsv lists the accepted deviations, with the reason):
  * a fact with `first_kernel` F is unsupported on a kernel >= F, or supported below F: failure;
  * helpers: supported for some program type on a kernel below the helper's F is a failure; on a
    kernel >= F the helper must be supported for at least one program type;
  * an `unknown` verdict (the guest runs as root) is a failure, whatever the fact.
A fact missing from the report (its name is not in that kernel's BTF enum) counts as unsupported;
its first kernel then comes from another kernel's report or from probes/facts/*.tsv.

bpftool cross-check (matrix/bpftool_exceptions.tsv lists the accepted disagreements): program
types, map types, helpers per program type, and four misc facts, from `bpftool -j feature probe
kernel full` in the same guest.

Exception files: tab-separated, `#` comments. Every column but the reason is a glob (fnmatch).
The kernel column matches the matrix name (`forky`), the upstream version (`7.2`), or a range
(`>=6.12`, `<6.1`). Helper facts are `PROG_TYPE/HELPER` for one pair; the rule "supported for at
least one program type" uses the helper name alone.
"""

import fnmatch
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FACTS_DIR = os.path.join(REPO, "probes", "facts")
EXCEPTIONS = os.path.join(HERE, "exceptions.tsv")
BPFTOOL_EXCEPTIONS = os.path.join(HERE, "bpftool_exceptions.tsv")

# Report sections whose facts are documented in probes/facts/<file>.tsv under the same names.
TSV_SECTIONS = {"program_types": "prog_types.tsv", "map_types": "map_types.tsv"}
# bpftool "misc" keys and the report's misc facts that answer the same question.
BPFTOOL_MISC = {"have_bounded_loops": "bounded_loops", "have_large_insn_limit": "large_insn_limit",
                "have_v2_isa_extension": "isa_v2", "have_v3_isa_extension": "isa_v3"}
STATUSES = ("supported", "unsupported", "unknown")


def parse_version(text):
    """(major, minor) of '5.10', '6.12.95+deb12-amd64', '5.13?'; None for 'pahole-1.27', ''."""
    m = re.match(r"^\s*(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def vstr(v):
    return f"{v[0]}.{v[1]}"


# --------------------------------------------------------------------------- exception files

class Exceptions:
    """Rows of an exceptions file; remembers which rows matched something."""

    def __init__(self, path, columns):
        self.path, self.columns, self.rows = path, columns, []
        if not os.path.exists(path):
            return
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                cells = [c.strip() for c in line.rstrip("\n").split("\t") if c.strip() != ""]
                if len(cells) != len(columns) + 1:
                    raise SystemExit(f"{path}:{lineno}: expected {len(columns) + 1} tab-separated columns "
                                     f"({', '.join(columns)}, reason), got {len(cells)}")
                self.rows.append({"line": lineno, "cells": cells[:-1], "reason": cells[-1], "used": set()})

    @staticmethod
    def kernel_matches(pattern, name, version):
        m = re.match(r"^(>=|<=|>|<)\s*(\d+\.\d+)$", pattern)
        if m:
            op, bound = m.group(1), parse_version(m.group(2))
            return {">=": version >= bound, "<=": version <= bound, ">": version > bound,
                    "<": version < bound}[op]
        return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(vstr(version), pattern)

    def find(self, kernel, version, *values):
        """The reason of the first row matching (kernel, *values), or None."""
        for row in self.rows:
            k, rest = row["cells"][0], row["cells"][1:]
            if self.kernel_matches(k, kernel, version) and all(
                    fnmatch.fnmatchcase(str(v), p) for v, p in zip(values, rest)):
                row["used"].add(kernel)
                return row["reason"]
        return None

    def unused(self, kernels):
        """Rows that name one of KERNELS [(name, version)] but matched nothing there."""
        out = []
        for row in self.rows:
            hit = [n for n, v in kernels if self.kernel_matches(row["cells"][0], n, v)]
            if hit and not row["used"].intersection(hit):
                out.append(f"{os.path.relpath(self.path, REPO)}:{row['line']}: "
                           f"{' '.join(row['cells'])}: matched nothing on {', '.join(hit)}")
        return out


# --------------------------------------------------------------------------- first kernels

def tsv_rows(fname):
    """The rows of probes/facts/FNAME as {column: cell} (no rows when the file is missing)."""
    path = os.path.join(FACTS_DIR, fname)
    if not os.path.exists(path):
        return []
    header, rows = None, []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cells = line.rstrip("\n").split("\t")
            if header is None:
                header = cells
            else:
                rows.append(dict(zip(header, cells)))
    return rows


def tsv_first_kernels():
    """{section: {name: first_kernel}} from probes/facts for sections whose names match the report."""
    out = {}
    for section, fname in list(TSV_SECTIONS.items()) + [("helpers", "helpers.tsv")]:
        if os.path.exists(os.path.join(FACTS_DIR, fname)):
            out[section] = {r["name"]: r["first_kernel"] for r in tsv_rows(fname)
                            if r.get("name") and r.get("first_kernel")}
    return out


def arch_first_kernels(arch):
    """{(section, name): first_kernel} for ARCH from probes/facts/arch.tsv (rows where the kernel differs
    by architecture: arm64 trampolines and ftrace direct calls)."""
    return {(r["section"], r["name"]): r["first_kernel"] for r in tsv_rows("arch.tsv")
            if r.get("arch") == arch and r.get("first_kernel")}


def fact_sections(report):
    """{section: {name: fact}} for every flat fact section of a report (helpers excluded)."""
    out = {}
    for section, body in report.items():
        if section in ("kernel", "helpers") or not isinstance(body, dict):
            continue
        facts = {n: f for n, f in body.items() if isinstance(f, dict) and f.get("status") in STATUSES}
        if facts:
            out[section] = facts
    return out


def known_first_kernels(reports):
    """{(section, name): first_kernel} from all REPORTS, then the tsv files for the rest."""
    known = {}
    for section, table in tsv_first_kernels().items():
        for name, fk in table.items():
            known[(section, name)] = fk
    for report in reports:
        for section, facts in fact_sections(report).items():
            for name, f in facts.items():
                if f.get("first_kernel"):
                    known[(section, name)] = f["first_kernel"]
        for ptype, helpers in report.get("helpers", {}).items():
            for name, f in helpers.items():
                if f.get("first_kernel"):
                    known[("helpers", name)] = f["first_kernel"]
    return known


# --------------------------------------------------------------------------- expectations

def _fk_text(fk):
    return fk if not fk.endswith("?") else f"{fk[:-1]} (estimate)"


def check_expectations(kernel, version, report, first_kernels, exceptions, arch="amd64"):
    """([failure message], [excepted message], {"section/fact": exception reason}) for one kernel's
    report; helper keys are "helpers/PROG_TYPE/HELPER" for a pair supported below its first kernel
    and "helpers/HELPER" for the "supported for some type" rule (excepted unknowns are not marked:
    the grid shows them as unknown anyway)."""
    failures, excepted, marks = [], [], {}
    kv = vstr(version)
    by_arch = arch_first_kernels(arch)

    def judge(section, fact, status, message):
        reason = exceptions.find(kernel, version, section, fact, status)
        if reason is None:
            failures.append(f"{kernel}: {message}")
        else:
            excepted.append(f"{kernel}: {message} [excepted: {reason}]")
            marks[f"{section}/{fact}"] = reason

    sections = fact_sections(report)
    for section in sorted(set(sections) | {s for s, _ in first_kernels if s != "helpers"}):
        facts = sections.get(section, {})
        names = set(facts) | {n for s, n in first_kernels if s == section}
        for name in sorted(names):
            f = facts.get(name)
            if f is None and section not in sections:
                continue  # the report has no such section (older binary): nothing to compare
            status = f["status"] if f else "unsupported"
            fk = by_arch.get((section, name)) or (f or {}).get("first_kernel") or first_kernels.get((section, name), "")
            need = parse_version(fk)
            detail = "" if f else " (not in the kernel's BTF enum)"
            if status == "unknown":
                judge(section, name, status, f"{section}.{name}: unknown in the guest: "
                      + f"{f.get('reason', '')} {('[' + f['errno'] + ']') if f.get('errno') else ''}".strip())
            elif need is None:
                continue
            elif status == "supported" and version < need:
                judge(section, name, status, f"{section}.{name}: supported but first_kernel is {_fk_text(fk)}")
            elif status == "unsupported" and version >= need:
                why = (f or {}).get("reason", "")
                judge(section, name, status, f"{section}.{name}: unsupported{detail} on {kv} but first_kernel is "
                      f"{_fk_text(fk)}" + (f" ({why})" if why else ""))

    # Helpers: per pair "unknown" and "supported below first_kernel"; per helper "supported somewhere".
    helpers = report.get("helpers", {})
    by_helper = {}
    for ptype, table in helpers.items():
        for name, f in table.items():
            by_helper.setdefault(name, {})[ptype] = f
    all_helpers = set(by_helper) | {n for s, n in first_kernels if s == "helpers"}
    if not helpers:
        all_helpers = set()
    grouped = {}  # (kind, key) -> [items] so a whole program type is one line
    for name in sorted(all_helpers):
        per_type = by_helper.get(name, {})
        fk = next((f["first_kernel"] for f in per_type.values() if f.get("first_kernel")),
                  first_kernels.get(("helpers", name), ""))
        need = parse_version(fk)
        supported_for = []
        for ptype, f in sorted(per_type.items()):
            pair = f"{ptype}/{name}"
            if f["status"] == "unknown":
                reason = exceptions.find(kernel, version, "helpers", pair, "unknown")
                key = ("unknown", ptype, f.get("reason", ""), reason)
                grouped.setdefault(key, []).append(name)
            elif f["status"] == "supported":
                supported_for.append(ptype)
                if need and version < need:
                    reason = exceptions.find(kernel, version, "helpers", pair, "supported")
                    if reason:
                        marks[f"helpers/{pair}"] = reason
                    grouped.setdefault(("early", name, fk, reason), []).append(ptype)
        if need and version >= need and not supported_for:
            states = sorted({f["status"] for f in per_type.values()}) or ["not in the kernel's BTF enum"]
            judge("helpers", name, "unsupported",
                  f"helpers.{name}: not supported for any program type ({'/'.join(states)}) on {kv} "
                  f"but first_kernel is {_fk_text(fk)}")
    for (kind, key, detail, reason), items in sorted(grouped.items(), key=lambda kv_: str(kv_[0])):
        if kind == "unknown":
            shown = ", ".join(items[:6]) + (f", … ({len(items)} helpers)" if len(items) > 6 else "")
            msg = f"helpers.{key}: unknown in the guest for {shown}: {detail}"
        else:
            msg = f"helpers.{key}: supported for {', '.join(items)} but first_kernel is {_fk_text(detail)}"
        if reason is None:
            failures.append(f"{kernel}: {msg}")
        else:
            excepted.append(f"{kernel}: {msg} [excepted: {reason}]")
    return failures, excepted, marks


# --------------------------------------------------------------------------- bpftool

def check_bpftool(kernel, version, report, bpftool, exceptions):
    """([failure message], [excepted message]) comparing the facts both tools decide."""
    failures, excepted, grouped = [], [], {}

    def status(section, name):
        f = report.get(section, {}).get(name)
        return (f["status"], f.get("reason", "")) if f else ("unsupported", "not in the kernel's BTF enum")

    def compare(section, name, ours, why, theirs):
        reason = exceptions.find(kernel, version, section, name, ours, theirs)
        msg = f"{section}.{name}: bpfprobe {ours}" + (f" ({why})" if why and ours != "supported" else "") \
              + f", bpftool {theirs}"
        (excepted if reason else failures).append(f"{kernel}: {msg}" + (f" [excepted: {reason}]" if reason else ""))

    for section, suffix in (("program_types", "_prog_type"), ("map_types", "_map_type")):
        for key, value in sorted(bpftool.get(section, {}).items()):
            if not (key.startswith("have_") and key.endswith(suffix)):
                continue
            name = key[len("have_"):-len(suffix)]
            ours, why = status(section, name)
            theirs = "supported" if value else "unsupported"
            if ours != theirs:
                compare(section, name, ours, why, theirs)

    for key, listed in sorted(bpftool.get("helpers", {}).items()):
        if not key.endswith("_available_helpers"):
            continue
        ptype = key[:-len("_available_helpers")]
        if status("program_types", ptype)[0] != "supported" or not bpftool.get("program_types", {}).get(
                f"have_{ptype}_prog_type"):
            continue  # the program type itself is compared above
        ours_table = report.get("helpers", {}).get(ptype, {})
        theirs_set = set(listed)
        for name in sorted(set(ours_table) | theirs_set):
            ours = ours_table[name]["status"] if name in ours_table else "unsupported"
            theirs = "supported" if name in theirs_set else "unsupported"
            if ours == theirs:
                continue
            reason = exceptions.find(kernel, version, "helpers", f"{ptype}/{name}", ours, theirs)
            grouped.setdefault((ptype, ours, theirs, reason), []).append(name)
    for (ptype, ours, theirs, reason), names in sorted(grouped.items(), key=lambda kv_: str(kv_[0])):
        shown = ", ".join(names[:8]) + (f", … ({len(names)} helpers)" if len(names) > 8 else "")
        msg = f"helpers.{ptype}: bpfprobe {ours}, bpftool {theirs}: {shown}"
        (excepted if reason else failures).append(f"{kernel}: {msg}" + (f" [excepted: {reason}]" if reason else ""))

    for key, name in BPFTOOL_MISC.items():
        if key not in bpftool.get("misc", {}):
            continue
        ours, why = status("misc", name)
        theirs = "supported" if bpftool["misc"][key] else "unsupported"
        if ours != theirs:
            compare("misc", name, ours, why, theirs)
    return failures, excepted


# --------------------------------------------------------------------------- driver

def load_exceptions():
    return (Exceptions(EXCEPTIONS, ["kernel", "section", "fact", "expected"]),
            Exceptions(BPFTOOL_EXCEPTIONS, ["kernel", "section", "fact", "bpfprobe", "bpftool"]))


def kernel_arch(kdir):
    """The architecture the matrix booted (result.json's arch; amd64 for results from before arm64)."""
    try:
        return json.load(open(os.path.join(kdir, "result.json"))).get("arch") or "amd64"
    except (OSError, ValueError):
        return "amd64"


def check_kernel(kdir, name, first_kernels, exc, bpftool_exc, arch=None):
    """{'release', 'version', 'expectations': {...}, 'bpftool': {...}} for one kernel's directory.

    A missing or unparsable report/bpftool output is itself a failure of that check."""
    out = {}
    release = open(os.path.join(kdir, "uname.txt")).read().strip() if os.path.exists(
        os.path.join(kdir, "uname.txt")) else ""
    version = parse_version(release)
    out["release"], out["version"] = release, version and vstr(version)

    def load(fname):
        path = os.path.join(kdir, fname)
        try:
            return json.load(open(path)), None
        except FileNotFoundError:
            return None, f"{fname} missing"
        except ValueError as e:
            return None, f"{fname} is not JSON: {e}"

    report, err = load("report.json")
    if version is None:
        err = err or "no kernel release from the guest (uname.txt)"
    if err:
        out["expectations"] = {"failures": [f"{name}: {err}"], "excepted": [], "marks": {}}
    else:
        f, e, m = check_expectations(name, version, report, first_kernels, exc, arch or kernel_arch(kdir))
        out["expectations"] = {"failures": f, "excepted": e, "marks": m}
    bpftool, err2 = load("bpftool.json")
    if err or err2:
        out["bpftool"] = {"failures": [f"{name}: {err or err2}"], "excepted": []}
    else:
        f, e = check_bpftool(name, version, report, bpftool, bpftool_exc)
        out["bpftool"] = {"failures": f, "excepted": e}
    return out


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "matrix"))
    summary = json.load(open(os.path.join(out, "summary.json")))
    names = [k["name"] for k in summary["kernels"] if os.path.isdir(os.path.join(out, k["name"]))]
    reports = []
    for n in names:
        try:
            reports.append(json.load(open(os.path.join(out, n, "report.json"))))
        except (OSError, ValueError):
            pass
    first_kernels = known_first_kernels(reports)
    exc, bexc = load_exceptions()
    failed, seen = 0, []
    by_name = {k["name"]: k for k in summary["kernels"]}
    for n in names:
        res = check_kernel(os.path.join(out, n), n, first_kernels, exc, bexc)
        by_name[n]["checks"] = {k: res[k] for k in ("expectations", "bpftool")}  # refreshed for grid.py
        if res["version"]:
            seen.append((n, parse_version(res["version"])))
        for check in ("expectations", "bpftool"):
            for line in res[check]["failures"]:
                print(f"FAIL {check}: {line}")
            failed += bool(res[check]["failures"])
            print(f"{n}: {check}: {len(res[check]['failures'])} failures, {len(res[check]['excepted'])} excepted")
    for line in exc.unused(seen) + bexc.unused(seen):
        print(f"warning: unused exception {line}")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"{2 * len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
