"""Checks over one guest's outputs that need no expectations: the warm report (verdict cache filled
by the first run) says what the cold one said, `bpfprobe check` predicts statically what the trial
load found, and `bpfprobe check --target` on the host with the guest's snapshot predicts what the
static check found in the guest."""

import json
import os
import subprocess


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def statuses(node, path="", out=None):
    """{json path: status} of every object in NODE that carries a `status`."""
    out = {} if out is None else out
    if isinstance(node, dict):
        if isinstance(node.get("status"), str):
            out[path or "/"] = node["status"]
        for k, v in node.items():
            statuses(v, f"{path}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = v.get("name") if isinstance(v, dict) and isinstance(v.get("name"), str) else str(i)
            statuses(v, f"{path}/{key}", out)
    return out


def cold_warm(kdir):
    """Failures: facts whose status differs between report.json and report-warm.json."""
    cold, warm = load_json(os.path.join(kdir, "report.json")), load_json(os.path.join(kdir, "report-warm.json"))
    if cold is None or warm is None:
        return {"failures": [], "excepted": [], "note": "no cold and warm report to compare"}
    a, b = statuses(cold), statuses(warm)
    failures = [f"{k}: cold {a.get(k, 'absent')}, warm {b.get(k, 'absent')}"
                for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return {"failures": failures, "excepted": [], "compared": len(set(a) | set(b))}


def programs(check):
    """{(object file name, program name): program} of a `bpfprobe check --json` output."""
    out = {}
    for obj in (check or {}).get("objects", []):
        for p in obj.get("programs", []):
            out[(os.path.basename(obj.get("path", "?")), p.get("name", "?"))] = p
    return out


def static_vs_trial(kdir):
    """Failures: programs whose --no-load status differs from the trial load's."""
    trial, static = load_json(os.path.join(kdir, "check.json")), load_json(os.path.join(kdir, "check-static.json"))
    if trial is None and static is None:
        return {"failures": [], "excepted": [], "note": "no objects checked"}
    if trial is None or static is None:
        return {"failures": ["check.json or check-static.json missing or not JSON"], "excepted": []}
    t, s = programs(trial), programs(static)
    failures = [f"{o}:{p}: static {s.get((o, p), {}).get('status', 'absent')}, "
                f"trial {t.get((o, p), {}).get('status', 'absent')} ({t.get((o, p), {}).get('reason', '')})"
                for o, p in sorted(set(t) | set(s))
                if s.get((o, p), {}).get("status") != t.get((o, p), {}).get("status")]
    return {"failures": failures, "excepted": [], "compared": len(set(t) | set(s))}


def target_vs_guest(kdir, cli, objects):
    """Failures: programs whose `check --target <the guest's snapshot>` result on the host (CLI) differs
    from check-static.json, the static check inside the guest: status and failure code always, the
    reason too except for a map definition (the guest creates the map, the host applies the rules)."""
    static = load_json(os.path.join(kdir, "check-static.json"))
    snap = os.path.join(kdir, "snapshot.snap")
    if static is None or not os.path.exists(snap):
        return {"failures": ["check-static.json or snapshot.snap missing"], "excepted": []}
    run = subprocess.run([cli, "check", "--json", "--target", snap] + list(objects), capture_output=True, text=True,
                         timeout=600)
    try:
        target = {"objects": json.loads(run.stdout)["targets"][0]["objects"]}
    except (ValueError, KeyError, IndexError):
        return {"failures": [f"check --target exited {run.returncode}: {run.stderr.strip()[-300:]}"], "excepted": []}
    g, t = programs(static), programs(target)
    failures = []
    for key in sorted(set(g) | set(t)):
        a, b = g.get(key, {}), t.get(key, {})
        fields = ["status", "code"] + ([] if a.get("code") == "map-definition" else ["reason"])
        diff = [f"{k} guest {a.get(k, 'absent')!r}, target {b.get(k, 'absent')!r}" for k in fields if a.get(k) != b.get(k)]
        if diff:
            failures.append(f"{key[0]}:{key[1]}: " + "; ".join(diff))
    return {"failures": failures, "excepted": [], "compared": len(set(g) | set(t))}
