#!/usr/bin/env python3
"""Scores `bpfprobe check` on the corpus against what libbpf really does.

    score.py BPFPROBE OUTDIR [--min-right MODE=PCT] [--max-wrong MODE=PCT] [--jobs N] [--json FILE]

OUTDIR is what build.sh made: OUTDIR/obj/*.bpf.o and the truth loader OUTDIR/truth. For every
object, the truth loader loads each program alone (libbpf, every other program's autoload off);
`bpfprobe check --json` (trial, mode "trial") and `bpfprobe check --json --no-load` (mode
"static") give their verdicts. A program is right when bpfprobe says supported and the truth
loaded, or unsupported and the truth failed, or its `code` is "environment" and the truth failed;
unknown when bpfprobe says unknown (or gives no verdict for it); wrong otherwise. Prints the table and
every wrong and unknown program grouped by class. Exit 1 when a threshold is missed, 2 on bad usage.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys

MODES = ("static", "trial")


def run_truth(truth, obj):
    out = subprocess.run([truth, obj], capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not rows:
        raise RuntimeError(f"truth loader failed on {obj}: rc={out.returncode} {out.stderr.strip()}")
    return rows


def run_check(bpfprobe, obj, static):
    cmd = [bpfprobe, "check", "--json"] + (["--no-load"] if static else []) + [obj]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if out.returncode == 2 or not out.stdout.strip():
        return None, out.stderr.strip().splitlines()[-1:] or [f"exit {out.returncode}"]
    doc = json.loads(out.stdout)
    objs = doc.get("objects", [])
    if not objs:
        return None, [out.stderr.strip() or "no object in the output"]
    return {p["name"]: p for p in objs[0]["programs"]}, None


# libbpf lines that only pass a failure upwards.
SUMMARY = re.compile(r"libbpf: (prog '[^']*': "
                     r"(failed to load|failed to prepare load attributes|BPF program load failed)"
                     r"|permission error while running as root|failed to load object)")


def key_line(log_tail):
    """The line of the truth's log that says why (the last one that is not a libbpf summary)."""
    lines = [l for l in log_tail.split("\n") if l.strip()]
    for line in reversed(lines):
        if not SUMMARY.search(line):
            return line
    return lines[-1] if lines else ""


# Classes of truth failures, by errno and the deciding message (first match wins).
TRUTH_CLASSES = [
    (None, r"not on BPF FS|failed to auto-pin", "environment: pin root is not a bpffs"),
    ("EPERM", r"", "permission (lockdown / capability)"),
    (None, r"legacy map definitions", "loader: legacy SEC(\"maps\") rejected by libbpf 1.x"),
    (None, r"missing BPF prog type", "loader: unknown section name"),
    (None, r"BTF is required", "loader: object needs BTF"),
    (None, r"no BTF-based attach target|attach program FD is not set", "loader: attach target set at run time"),
    (None, r"failed to resolve CO-RE relocation|unknown#195896080", "CO-RE relocation reached"),
    (None, r"extern '(CONFIG_|LINUX_)[^']*' \(strong\)|extern \(kcfg\)", "extern: kconfig"),
    (None, r"extern '[^']*' \(strong\)|extern \((var|func) ksym\)|"
     r"failed to find the address for kernel symbol|kfunc '.*' is referenced but", "extern: ksym / kfunc"),
    (None, r"failed to find kernel BTF type ID", "attach target missing"),
    (None, r"struct_ops", "struct_ops"),
    (None, r"failed to create", "map creation"),
    (None, r"cannot use helper|unknown func|not supported for program type|might sleep", "helper not allowed"),
    (None, r"calling kernel function .* is not allowed", "kfunc not allowed"),
    (None, r"cannot pass map_type", "helper / map type mismatch"),
    (None, r"reserved fields|unknown opcode", "isa encoding"),
    ("E2BIG", r"", "insn / complexity limit"),
    (None, r"BPF_ATOMIC stores into", "verifier: atomic on ctx / packet"),
    (None, r"bpf_context access|only read is supported|no write support", "verifier: context field access"),
    (None, r"At program exit|should have been in", "verifier: return value range"),
    (None, r"reference leak|Unreleased reference", "verifier: reference leak"),
    (None, r"write into map forbidden", "verifier: write to read-only map"),
    (None, r".", "verifier: program logic (bounds, NULL, types)"),
]


def truth_class(t):
    line = key_line(t["log_tail"]) + "\n" + t["log_tail"]
    for errno, pattern, name in TRUTH_CLASSES:
        if errno and t["errno_name"] != errno:
            continue
        if re.search(pattern, line):
            return name
    return f"other ({t['errno_name']})"


def verdict(prog):
    if prog is None:
        return "none"
    return prog.get("status", "unknown")


def score_one(prog, truth):
    """right / wrong / unknown for one program in one mode."""
    status = verdict(prog)
    loaded = truth["loaded"]
    code = (prog or {}).get("code")
    if status == "supported" and loaded or status == "unsupported" and not loaded:
        return "right"
    if code == "environment" and not loaded:
        return "right"
    if status in ("unknown", "none"):
        return "unknown"
    return "wrong"


def normalise(reason):
    """A bpfprobe reason with names and numbers taken out, for grouping."""
    r = re.sub(r"'[^']*'", "'…'", reason or "")
    r = re.sub(r"\b0x[0-9a-f]+\b|\b\d+\b", "N", r)
    return r[:110]


def check_object(bpfprobe, truth, obj):
    truths = run_truth(truth, obj)
    checks = {m: run_check(bpfprobe, obj, m == "static") for m in MODES}
    rows = []
    names = [t["program"] for t in truths]
    whole_object = names == ["*"]
    if whole_object:  # libbpf could not open it: every program bpfprobe lists fails
        listed = set()
        for progs, _ in checks.values():
            listed |= set(progs or {})
        names = sorted(listed) or ["*"]
    by_name = {t["program"]: t for t in truths}
    for name in names:
        t = dict(by_name.get(name) or by_name.get("*"))
        t["program"] = name
        row = {"object": os.path.basename(obj), "program": name, "truth": t}
        for mode, (progs, err) in checks.items():
            p = (progs or {}).get(name)
            row[mode] = {
                "status": verdict(p),
                "code": (p or {}).get("code"),
                "reason": (p or {}).get("reason") if p else (err[0] if err else "not in bpfprobe's output"),
                "section": (p or {}).get("section"),
            }
            row[mode]["score"] = score_one(p, t)
        rows.append(row)
    return rows


def parse_threshold(values, what):
    out = {}
    for v in values or []:
        mode, _, pct = v.partition("=")
        if mode not in MODES or not pct:
            raise SystemExit(f"score.py: bad --{what} {v!r} (want static=PCT or trial=PCT)")
        out[mode] = float(pct)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bpfprobe")
    ap.add_argument("outdir")
    ap.add_argument("--truth", help="truth loader (default OUTDIR/truth)")
    ap.add_argument("--min-right", action="append", metavar="MODE=PCT")
    ap.add_argument("--max-wrong", action="append", metavar="MODE=PCT")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", help="write every program's row here")
    ap.add_argument("--only", help="regex on object file names")
    args = ap.parse_args()
    min_right = parse_threshold(args.min_right, "min-right")
    max_wrong = parse_threshold(args.max_wrong, "max-wrong")
    truth = args.truth or os.path.join(args.outdir, "truth")
    objdir = os.path.join(args.outdir, "obj")
    objs = sorted(os.path.join(objdir, f) for f in os.listdir(objdir) if f.endswith(".bpf.o"))
    if args.only:
        objs = [o for o in objs if re.search(args.only, os.path.basename(o))]
    if not objs:
        print(f"score.py: no objects in {objdir}", file=sys.stderr)
        return 2

    rows = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for result in pool.map(lambda o: check_object(args.bpfprobe, truth, o), objs):
            rows.extend(result)

    total = len(rows)
    kinds = {r["static"]["section"].split("/")[0] for r in rows if r["static"]["section"]}
    loaded = sum(r["truth"]["loaded"] for r in rows)
    print(f"{total} programs in {len(objs)} objects, {len(kinds)} section kinds; libbpf loads {loaded}, "
          f"fails {total - loaded}\n")
    print("| mode | right | wrong | unknown |\n|---|---|---|---|")
    counts = {}
    for mode in MODES:
        c = collections.Counter(r[mode]["score"] for r in rows)
        counts[mode] = c
        pct = lambda n: 100.0 * n / total
        print(f"| {mode} | {c['right']} / {total} ({pct(c['right']):.1f} %) | {c['wrong']} ({pct(c['wrong']):.1f} %) "
              f"| {c['unknown']} ({pct(c['unknown']):.1f} %) |")

    for mode in MODES:
        logic = sum(1 for r in rows if r[mode]["score"] == "wrong" and not r["truth"]["loaded"]
                    and truth_class(r["truth"]).startswith("verifier:"))
        print(f"\n{mode}: {logic} of the {counts[mode]['wrong']} wrong are rejections by the verifier's own analysis "
              f"(program logic: bounds, context fields, references, return values)")

    for mode in MODES:
        for outcome in ("wrong", "unknown"):
            picked = [r for r in rows if r[mode]["score"] == outcome]
            if not picked:
                continue
            print(f"\n## {mode}: {outcome} ({len(picked)})")
            groups = collections.defaultdict(list)
            for r in picked:
                t = r["truth"]
                said = f"bpfprobe {r[mode]['status']}: {normalise(r[mode]['reason'])}"
                real = "libbpf loads it" if t["loaded"] else f"libbpf fails ({t['errno_name']}): {truth_class(t)}"
                groups[(real, said)].append(r)
            for (real, said), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                print(f"\n### {len(members)} x {real} / {said}")
                for r in members:
                    t = r["truth"]
                    why = key_line(t["log_tail"]) if not t["loaded"] else "loaded"
                    print(f"- {r['object']} {r['program']} [{r[mode]['section']}]: bpfprobe: {r[mode]['reason']}"
                          f" | truth: {t['errno_name'] or 'ok'} {why}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)

    failed = []
    for mode, pct in min_right.items():
        if 100.0 * counts[mode]["right"] / total < pct:
            failed.append(f"{mode} right {100.0 * counts[mode]['right'] / total:.1f} % < {pct} %")
    for mode, pct in max_wrong.items():
        if 100.0 * counts[mode]["wrong"] / total > pct:
            failed.append(f"{mode} wrong {100.0 * counts[mode]['wrong'] / total:.1f} % > {pct} %")
    for f in failed:
        print(f"score.py: threshold missed: {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
