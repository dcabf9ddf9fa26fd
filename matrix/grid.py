#!/usr/bin/env python3
"""The compatibility grid: facts x kernels from a matrix results directory, as HTML and Markdown.

    matrix/grid.py [OUT] [--docs DIR]    # default OUT build/matrix; writes OUT/grid.{html,md}

run.py calls write() after every run. The HTML page is self-contained (inline CSS, no scripts or
external assets); the helper matrix is collapsed to "supported for N program types" per helper and
kernel, with the per-program-type detail in a <details> element.
"""

import html
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ORDER = ["program_types", "map_types", "helpers", "links", "attach_mechanisms", "kfuncs", "dynptr", "iterators", "misc",
         "config"]
TITLES = {"program_types": "Program types", "map_types": "Map types", "helpers": "Helpers", "links": "Link types",
          "attach_mechanisms": "Attach mechanisms", "kfuncs": "kfuncs", "dynptr": "dynptr", "iterators": "Iterators", "misc": "Miscellaneous",
          "config": "Kernel config (as read in the guest)"}
CHOICE_TITLES = {"attach": "Attach: the path chosen per hook",
                 "compat": "Compat accessors: the tier each accessor gets (bpf/bpfprobe/compat)"}
MARK = {"supported": "✓", "unsupported": "✗", "unknown": "?", None: "·"}
MD_MARK = {"supported": "✅", "unsupported": "❌", "unknown": "❔", None: "·"}
CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:center;white-space:nowrap}
th.f,td.f{text-align:left}
td.s{background:#c8ecc8}td.u{background:#f4c7c3}td.q{background:#ffe599}td.a{background:#eee;color:#888}
td.p{background:#e3f1e3}
small{color:#666}details summary{cursor:pointer}details table{margin:.3em 0}details td.f{white-space:normal;max-width:40em}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border:1px solid #ccc}
"""


def load(out):
    summary = json.load(open(os.path.join(out, "summary.json")))
    kernels = []
    for k in summary["kernels"]:
        path = os.path.join(out, k["name"], "report.json")
        try:
            report = json.load(open(path))
        except (OSError, ValueError):
            report = {}
        kernels.append((k, report))
    return summary, kernels


def flat_sections(kernels):
    """Section names holding {name: {status…}} facts, in display order."""
    names = []
    for _, report in kernels:
        for section, body in report.items():
            if section in ("kernel", "helpers") or not isinstance(body, dict) or section in names:
                continue
            if any(isinstance(f, dict) and "status" in f for f in body.values()):
                names.append(section)
    return sorted(names, key=lambda s: (ORDER.index(s) if s in ORDER else len(ORDER), s))


def choice_sections(kernels):
    """Sections of {name: {"chosen": …}} (attach paths) or {name: {"tier": …}} (compat tiers)."""
    names = []
    for _, report in kernels:
        for section, body in report.items():
            if isinstance(body, dict) and section not in names and any(
                    isinstance(v, dict) and ("chosen" in v or "tier" in v) and "status" not in v for v in body.values()):
                names.append(section)
    return names


def first_kernel(kernels, section, name):
    for _, report in kernels:
        f = report.get(section, {}).get(name)
        if isinstance(f, dict) and f.get("first_kernel"):
            return f["first_kernel"]
    return ""


def cell_title(f):
    if not f:
        return "not defined by this kernel (absent from its BTF enum)"
    parts = [f.get("status", "")]
    for key in ("reason", "errno", "evidence"):
        if f.get(key):
            parts.append(str(f[key]))
    return " — ".join(parts)


def status_class(status):
    return {"supported": "s", "unsupported": "u", "unknown": "q"}.get(status, "a")


def helper_summary(kernels):
    """{helper: [(n_supported, n_unknown, n_types) per kernel]}, and per helper {ptype: [status…]}."""
    helpers, detail = {}, {}
    for i, (_, report) in enumerate(kernels):
        for ptype, table in report.get("helpers", {}).items():
            for name, f in table.items():
                helpers.setdefault(name, [[0, 0, 0] for _ in kernels])
                cnt = helpers[name][i]
                cnt[2] += 1
                cnt[0] += f.get("status") == "supported"
                cnt[1] += f.get("status") == "unknown"
                detail.setdefault(name, {}).setdefault(ptype, [None] * len(kernels))[i] = f
    return helpers, detail


def marks_of(k):
    return k.get("checks", {}).get("expectations", {}).get("marks", {})


def kernel_label(k):
    return k.get("upstream_version") or k.get("release") or k["name"]


# --------------------------------------------------------------------------- HTML

def render_html(summary, kernels):
    e = html.escape
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>bpfprobe kernel compatibility grid</title>",
           f"<style>{CSS}</style></head><body>",
           "<h1>bpfprobe: BPF features by kernel</h1>",
           f"<p>Generated by <code>matrix/run.py</code> from a run started {e(summary.get('started', '?'))} "
           "(QEMU/TCG, Debian kernel packages, bpfprobe run as root in each guest). "
           "Hover a cell for the reason and the kernel's evidence.</p>",
           "<p class='legend'><span class='s' style='background:#c8ecc8'>✓ supported</span>"
           "<span style='background:#f4c7c3'>✗ unsupported</span><span style='background:#ffe599'>? unknown</span>"
           "<span style='background:#eee'>· not defined by that kernel</span>"
           "<span>* deviation accepted by matrix/exceptions.tsv (hover for the reason)</span></p>"]
    out.append("<h2>Kernels</h2><table><tr><th class=f>entry</th><th>release</th><th>Debian packages</th>"
               "<th>status</th><th>kernel boot</th><th>bpfprobe</th><th>tests (pass/fail/skip)</th></tr>")
    for k, _ in kernels:
        pk = "<br>".join(f"{e(p['name'])} {e(p['version'])}" for p in k.get("packages", []))
        g = k.get("guest_times", {})
        tests = "<br>".join(f"{e(n)} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in k.get("tests", {}).items())
        cls = "s" if k["status"] == "ok" else "u"
        out.append(f"<tr><td class=f>{e(k['name'])}</td><td>{e(k.get('release', '-'))}</td><td class=f>{pk}</td>"
                   f"<td class={cls}>{e(k['status'])}</td><td>{g.get('boot', '-')} s</td>"
                   f"<td>{g.get('bpfprobe', '-')} s</td><td>{tests or '-'}</td></tr>")
    out.append("</table>")
    head = "".join(f"<th title='{e(k.get('release', ''))}'>{e(k['name'])}<br><small>{e(kernel_label(k))}</small></th>"
                   for k, _ in kernels)

    for section in flat_sections(kernels):
        names = sorted({n for _, r in kernels for n, f in r.get(section, {}).items() if isinstance(f, dict)})
        out.append(f"<h2 id='{e(section)}'>{e(TITLES.get(section, section))}</h2>")
        out.append(f"<table><tr><th class=f>{e(section)}</th><th>first kernel</th>{head}</tr>")
        for n in names:
            row = [f"<td class=f>{e(n)}</td><td>{e(first_kernel(kernels, section, n))}</td>"]
            for k, r in kernels:
                f = r.get(section, {}).get(n) if r else None
                st = f.get("status") if isinstance(f, dict) else None
                mark = marks_of(k).get(f"{section}/{n}")
                title = cell_title(f) + (f" — accepted deviation: {mark}" if mark else "")
                row.append(f"<td class={status_class(st)} title='{e(title)}'>{MARK.get(st, '·')}{'*' if mark else ''}</td>"
                           if r else "<td class=a>–</td>")
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table>")
        if section == "map_types":
            out.extend(render_helpers_html(kernels, head))

    for section in choice_sections(kernels):
        out.append(f"<h2 id='{e(section)}'>{e(CHOICE_TITLES.get(section, section))} (hover for the candidates)</h2>"
                   f"<table><tr><th class=f>{e(section)}</th>{head}</tr>")
        names = sorted({n for _, r in kernels for n in r.get(section, {})})
        for n in names:
            row = [f"<td class=f>{e(n)}</td>"]
            for _, r in kernels:
                v = r.get(section, {}).get(n)
                if not isinstance(v, dict):
                    row.append("<td class=a>·</td>")
                    continue
                chosen = v.get("chosen", v.get("tier")) or "none"
                cands = "; ".join(f"{c.get('path', c.get('tier', '?'))}: {c.get('status', '')} {c.get('reason', '')}".strip()
                                  for c in v.get("candidates", []) if isinstance(c, dict))
                cls = "s" if chosen not in (None, "", "none") else "u"
                row.append(f"<td class={cls} title='{e(cands)}'>{e(str(chosen))}</td>")
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_helpers_html(kernels, head):
    e = html.escape
    helpers, detail = helper_summary(kernels)
    if not helpers:
        return []
    out = ["<h2 id='helpers'>Helpers</h2>",
           "<p>Per helper and kernel: for how many program types it is supported (of the types that kernel "
           "has). Open a helper for the program types.</p>",
           f"<table><tr><th class=f>helper</th><th>first kernel</th>{head}</tr>"]
    for name in sorted(helpers):
        cells = []
        for (k, _), (n_sup, n_unk, n_types) in zip(kernels, helpers[name]):
            if n_types == 0:
                cells.append("<td class=a>·</td>")
                continue
            mark = helper_mark(k, name)
            cls = "s" if n_sup else ("q" if n_unk else "u")
            txt = f"{n_sup}" + (f" +{n_unk}?" if n_unk else "")
            cells.append(f"<td class={cls} title='{n_sup} of {n_types} types"
                         f"{f', {n_unk} unknown' if n_unk else ''}{e(f' — accepted deviation: {mark}') if mark else ''}'>"
                         f"{txt}{'*' if mark else ''}</td>")
        # Program types with the same verdict on every kernel share a row: most helpers have two or
        # three such patterns, which keeps this (the bulk of the page) small.
        patterns = {}
        for ptype, per_kernel in sorted(detail[name].items()):
            if not any(f and f.get("status") in ("supported", "unknown") for f in per_kernel):
                continue
            key = tuple((f.get("status") if f else None, f.get("reason", "") if f and f.get("status") == "unknown"
                         else "") for f in per_kernel)
            patterns.setdefault(key, []).append(ptype)
        rows = []
        for key, ptypes in patterns.items():
            rows.append(f"<tr><td class=f>{e(', '.join(ptypes))}" + "".join(
                f"<td class={status_class(st)}" + (f" title='{e(reason)}'" if reason else "") + f">{MARK.get(st)}"
                for st, reason in key))
        inner = (f"<details><summary>{e(name)}</summary><table><tr><th class=f>program types</th>"
                 + "".join(f"<th>{e(k['name'])}</th>" for k, _ in kernels) + "</tr>" + "".join(rows)
                 + "</table></details>") if rows else e(name)
        fk = first_kernel_helper(kernels, name)
        out.append(f"<tr><td class=f>{inner}</td><td>{e(fk)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return out


def helper_mark(k, name):
    """The exception reason covering helper NAME on kernel K (the helper rule or any of its pairs)."""
    m = marks_of(k)
    if f"helpers/{name}" in m:
        return m[f"helpers/{name}"]
    return next((v for key, v in m.items() if key.startswith("helpers/") and key.endswith("/" + name)), None)


def first_kernel_helper(kernels, name):
    for _, r in kernels:
        for table in r.get("helpers", {}).values():
            f = table.get(name)
            if f and f.get("first_kernel"):
                return f["first_kernel"]
    return ""


# --------------------------------------------------------------------------- Markdown

def render_md(summary, kernels):
    out = ["# bpfprobe: BPF features by kernel", "",
           f"Generated by `matrix/run.py` from a run started {summary.get('started', '?')} (QEMU/TCG, Debian "
           "kernel packages, bpfprobe as root in each guest). ✅ supported, ❌ unsupported, ❔ unknown, "
           "· not defined by that kernel. The HTML version ([grid.html](grid.html)) shows each verdict's "
           "reason and evidence and the helpers per program type.", "",
           "## Kernels", "", "| entry | release | Debian packages | status | kernel boot | bpfprobe | tests (pass/fail/skip) |",
           "|---|---|---|---|---|---|---|"]
    for k, _ in kernels:
        g = k.get("guest_times", {})
        pk = "<br>".join(f"{p['name']} {p['version']}" for p in k.get("packages", []))
        tests = "<br>".join(f"{n} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in k.get("tests", {}).items())
        out.append(f"| {k['name']} | {k.get('release', '-')} | {pk} | {k['status']} | {g.get('boot', '-')} s | "
                   f"{g.get('bpfprobe', '-')} s | {tests or '-'} |")
    head = "| " + " | ".join(f"{k['name']} ({kernel_label(k)})" for k, _ in kernels) + " |"
    sep = "|---|---|" + "---|" * len(kernels)
    for section in flat_sections(kernels):
        names = sorted({n for _, r in kernels for n, f in r.get(section, {}).items() if isinstance(f, dict)})
        out += ["", f"## {TITLES.get(section, section)}", "", f"| {section} | first kernel " + head, sep]
        notes = {}
        for n in names:
            cells = []
            for k, r in kernels:
                f = r.get(section, {}).get(n)
                mark = marks_of(k).get(f"{section}/{n}")
                if mark:
                    notes.setdefault((n, mark), []).append(k["name"])
                cells.append(MD_MARK.get(f.get("status") if isinstance(f, dict) else None, "·") + ("\\*" if mark else ""))
            out.append(f"| {n} | {first_kernel(kernels, section, n)} | " + " | ".join(cells) + " |")
        out += md_notes(notes)
        if section == "map_types":
            helpers, _ = helper_summary(kernels)
            if helpers:
                out += ["", "## Helpers", "",
                        "Number of program types each helper is supported for (`+N?`: unknown for N more).", "",
                        "| helper | first kernel " + head, sep]
                notes = {}
                for name in sorted(helpers):
                    cells = []
                    for (k, _), (s, u, t) in zip(kernels, helpers[name]):
                        mark = helper_mark(k, name) if t else None
                        if mark:
                            notes.setdefault((name, mark), []).append(k["name"])
                        cells.append("·" if t == 0 else f"{s}" + (f" +{u}?" if u else "") + ("\\*" if mark else ""))
                    out.append(f"| {name} | {first_kernel_helper(kernels, name)} | " + " | ".join(cells) + " |")
                out += md_notes(notes)
    for section in choice_sections(kernels):
        out += ["", f"## {CHOICE_TITLES.get(section, section)}", "", f"| {section} " + head, "|---|" + "---|" * len(kernels)]
        for n in sorted({n for _, r in kernels for n in r.get(section, {})}):
            cells = []
            for _, r in kernels:
                v = r.get(section, {}).get(n)
                cells.append(str(v.get("chosen", v.get("tier")) or "none") if isinstance(v, dict) else "·")
            out.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def md_notes(notes):
    """Footnotes for cells marked * (a deviation from the first kernel that matrix/exceptions.tsv accepts)."""
    if not notes:
        return []
    grouped = {}
    for (fact, reason), ks in notes.items():
        grouped.setdefault((reason, ", ".join(ks)), []).append(f"`{fact}`")
    return ["", "\\* deviation accepted by `matrix/exceptions.tsv` (reason given):", ""] + [
        f"- {', '.join(facts)} on {ks}: {reason}" for (reason, ks), facts in grouped.items()]


def write(out, dirs):
    """Render OUT's results into grid.html and grid.md in each of DIRS; returns the paths written."""
    summary, kernels = load(out)
    pages = {"grid.html": render_html(summary, kernels), "grid.md": render_md(summary, kernels)}
    written = []
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        for name, text in pages.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            written.append(os.path.join(d, name))
    return written


def main():
    args = sys.argv[1:]
    docs = None
    if "--docs" in args:
        i = args.index("--docs")
        docs = args[i + 1]
        del args[i:i + 2]
    out = os.path.abspath(args[0] if args else os.path.join(REPO, "build", "matrix"))
    for path in write(out, [out] + ([docs] if docs else [])):
        print(path)


if __name__ == "__main__":
    main()
