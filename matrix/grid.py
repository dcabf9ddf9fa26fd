#!/usr/bin/env python3
"""The compatibility grid: facts x kernels from a matrix results directory (rows: kmatrix/grid_rows.py),
as HTML and Markdown.

    matrix/grid.py [OUT] [--docs DIR]    # default OUT build/matrix; writes OUT/grid.{html,md}

run.py calls write() after every run. The HTML page is self-contained (inline CSS and a small script: the
row filter and the cell popup of kmatrix/page_script.py; no external assets). It opens with a table of
contents and the rows whose verdict differs between kernels ("new in <kernel>", then changed verdicts);
every section follows in full. Every cell has a hover text (the reason and evidence, or the
candidates/tiers of an attach/compat choice). The helper matrix is
collapsed to "supported for N program types" per helper and kernel, with the per-program-type detail in a
<details> element. The first kernel carries the upstream commit id (hover text in HTML, code in
Markdown); the pages link nowhere outside themselves.
"""

import html
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from kmatrix import page_script, pages  # noqa: E402
from kmatrix.grid_rows import (  # noqa: E402
    MARK, MISSING, ORDER, all_rows, arch_differences, cell_title, differences, helper_summary, kernel_label, load, status_class)

MD_MARK = {"supported": "✅", "unsupported": "❌", "unknown": "❔", None: "·"}
CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:center;white-space:nowrap}
thead th{position:sticky;top:0;background:#f3f3f3;z-index:1}
th.f,td.f{text-align:left}
td.s{background:#c8ecc8}td.u{background:#f4c7c3}td.q{background:#ffe599}td.a{background:#eee;color:#888}
td.fk i{color:#777}
small{color:#666}details summary{cursor:pointer}details table{margin:.3em 0}details td.f{white-space:normal;max-width:40em}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border:1px solid #ccc}
nav ul{columns:2;margin:.3em 0 1em}
""" + page_script.CSS




# --------------------------------------------------------------------------- HTML

def anchor(text):
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def md_anchor(heading):
    """The anchor GitHub and most Markdown renderers give a heading: lower case, punctuation other
    than '-' and '_' dropped, spaces to '-'."""
    return "".join(c for c in heading.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")


def first_kernel_html(row):
    e = html.escape
    if row.first_kernel and row.commit:
        return f"<span class=commit title='upstream commit {e(row.commit)}'>{e(row.first_kernel)}</span>"
    if row.first_kernel:
        return e(row.first_kernel)
    if row.seen_from:
        return f"<i title='not in the facts tables: the first kernel of this matrix that has it'>{e(row.seen_from)}</i>"
    return ""


def row_html(row, with_section=False):
    e = html.escape
    label = f"<small>{e(row.section)}</small> {e(row.name)}" if with_section else e(row.name)
    cells = "".join(f"<td class={cls} title='{e(title)}'>{e(text)}{'*' if mark else ''}</td>"
                    for cls, text, title, mark in row.cells)
    return (f"<tr data-name='{e((row.section + ' ' + row.name).lower())}'><td class=f>{label}</td>"
            f"<td class=fk>{first_kernel_html(row)}</td>{cells}</tr>")


def table_html(first_col, head, rows, with_section=False, detail=None):
    out = [f"<table><thead><tr><th class=f>{html.escape(first_col)}</th><th>first kernel</th>{head}</tr></thead><tbody>"]
    for row in rows:
        out.append(row_html(row, with_section) if not detail else detail(row))
    out.append("</tbody></table>")
    return out


def helper_detail(kernels):
    """Helper rows with the program types folded under the name (same verdict on every kernel share a row)."""
    e = html.escape
    _, detail = helper_summary(kernels)

    def render(row):
        patterns = {}
        for ptype, per_kernel in sorted(detail.get(row.name, {}).items()):
            if not any(f and f.get("status") in ("supported", "unknown") for f in per_kernel):
                continue
            # Program types share a row when status (and the reason, when not supported) agree.
            key = tuple((f.get("status") if f else None,
                         f.get("status", "") + (f" — {f['reason']}" if f.get("status") != "supported" and f.get("reason")
                                                else "") if f else cell_title(f)) for f in per_kernel)
            patterns.setdefault(key, []).append(ptype)
        inner = []
        for key, ptypes in patterns.items():
            inner.append(f"<tr><td class=f>{e(', '.join(ptypes))}</td>" + "".join(
                f"<td class={status_class(st)} title='{e(title)}'>{MARK.get(st)}</td>" for st, title in key) + "</tr>")
        if not inner:
            return row_html(row)
        name = (f"<details><summary>{e(row.name)}</summary><table><tr><th class=f>program types</th>"
                + "".join(f"<th>{e(k['name'])}</th>" for k, _ in kernels) + "</tr>" + "".join(inner)
                + "</table></details>")
        cells = "".join(f"<td class={cls} title='{e(title)}'>{e(text)}{'*' if mark else ''}</td>"
                        for cls, text, title, mark in row.cells)
        return (f"<tr data-name='helpers {e(row.name.lower())}'><td class=f>{name}</td>"
                f"<td class=fk>{first_kernel_html(row)}</td>{cells}</tr>")
    return render


def render_html(summary, kernels):
    e = html.escape
    sections = all_rows(kernels)
    new_in, changed = differences(kernels, sections)
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>bpfprobe kernel compatibility grid</title>",
           f"<style>{CSS}</style></head><body>",
           "<h1>bpfprobe: BPF features by kernel</h1>",
           f"<p>Generated by <code>matrix/run.py</code> from a run started {e(summary.get('started', '?'))} "
           "(QEMU/TCG, Debian kernel packages, bpfprobe run as root in each guest). "
           "Hover a cell for the reason and the kernel's evidence.</p>",
           "<p class='legend'><span style='background:#c8ecc8'>✓ supported</span>"
           "<span style='background:#f4c7c3'>✗ unsupported / no usable tier or path</span>"
           "<span style='background:#ffe599'>? unknown</span>"
           "<span style='background:#eee'>· not defined by that kernel</span>"
           "<span>* deviation accepted by matrix/exceptions.tsv (hover for the reason)</span>"
           "<span><i>≤ 5.10</i> / <i>new in 6.1</i>: first kernel of this matrix with it (no upstream record)</span></p>",
           page_script.filter_box("filter rows by name (e.g. ringbuf, tcx, bpf_loop)")]
    toc = ["<li><a href='#kernels'>Kernels</a></li>",
           f"<li><a href='#differs'>Differs between kernels</a> ({sum(map(len, new_in.values())) + len(changed)} rows)"
           "<ul>"]
    for i in sorted(new_in):
        label = kernel_label(kernels[i][0])
        toc.append(f"<li><a href='#new-in-{anchor(kernels[i][0]['name'])}'>New in {e(kernels[i][0]['name'])}"
                   f" ({e(label)})</a> ({len(new_in[i])})</li>")
    toc.append(f"<li><a href='#changed'>Verdict changes</a> ({len(changed)})</li></ul></li>")
    by_arch = arch_differences(kernels, sections)
    if by_arch:
        toc.append(f"<li><a href='#differs-arch'>Differs between architectures</a> ({len(by_arch)} rows)</li>")
    for section, title, rows in sections:
        toc.append(f"<li><a href='#{anchor(section)}'>{e(title)}</a> ({len(rows)})</li>")
    out.append("<nav><h2>Contents</h2><ul>" + "".join(toc) + "</ul></nav>")

    out.append("<h2 id='kernels'>Kernels</h2><table><thead><tr><th class=f>entry</th><th>release</th>"
               "<th>Debian packages</th><th>status</th><th>kernel boot</th><th>bpfprobe</th>"
               "<th>tests (pass/fail/skip)</th></tr></thead><tbody>")
    for k, _ in kernels:
        pk = "<br>".join(f"{e(p['name'])} {e(p['version'])}" for p in k.get("packages", []))
        g = k.get("guest_times", {})
        tests = "<br>".join(f"{e(n)} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in k.get("tests", {}).items())
        cls = "s" if k["status"] == "ok" else "u"
        out.append(f"<tr><td class=f>{e(k['name'])}</td><td>{e(k.get('release', '-'))}</td><td class=f>{pk}</td>"
                   f"<td class={cls} title='{e(k.get('reason') or k['status'])}'>{e(k['status'])}</td>"
                   f"<td>{g.get('boot', '-')} s</td><td>{g.get('bpfprobe', '-')} s</td><td>{tests or '-'}</td></tr>")
    out.append("</tbody></table>")
    head = "".join(f"<th title='{e(k.get('release', ''))}'>{e(k['name'])}<br><small>{e(kernel_label(k))}</small></th>"
                   for k, _ in kernels)

    out.append("<h2 id='differs'>Differs between kernels</h2><p>Only the rows whose verdict is not the same on "
               "every kernel with a report: first the facts each kernel adds, then the verdicts that change.</p>")
    for i in sorted(new_in):
        k = kernels[i][0]
        out.append(f"<h3 id='new-in-{anchor(k['name'])}'>New in {e(k['name'])} ({e(kernel_label(k))})</h3>")
        out.extend(table_html("fact", head, new_in[i], with_section=True))
    out.append("<h3 id='changed'>Verdict changes</h3>")
    out.extend(table_html("fact", head, changed, with_section=True))
    if by_arch:
        out.append("<h2 id='differs-arch'>Differs between architectures</h2><p>The same upstream kernel version on "
                   "amd64 and another architecture, and the facts whose verdict is not the same; the evidence is "
                   "each side's reason.</p><table><thead><tr><th class=f>fact</th><th>kernel</th><th>amd64</th>"
                   "<th>other</th><th class=f>evidence (amd64 / other)</th></tr></thead><tbody>")
        for version, a, b, arch, row in by_arch:
            ca, cb = row.cells[a], row.cells[b]
            out.append(f"<tr data-name='{e(row.section)} {e(row.name.lower())}'><td class=f>{e(row.section)}/"
                       f"{e(row.name)}</td><td>{e(version)}</td><td class={ca[0]}>{e(ca[1])}</td>"
                       f"<td class={cb[0]} title='{e(arch)}'>{e(cb[1])} <small>{e(arch)}</small></td>"
                       f"<td class=f>{e(ca[2])}<br>{e(cb[2])}</td></tr>")
        out.append("</tbody></table>")

    for section, title, rows in sections:
        out.append(f"<h2 id='{anchor(section)}'>{e(title)}</h2>")
        if section == "helpers":
            out.append("<p>Per helper and kernel: for how many program types it is supported (of the types that "
                       "kernel has). Open a helper for the program types.</p>")
            out.extend(table_html("helper", head, rows, detail=helper_detail(kernels)))
        else:
            out.extend(table_html(section, head, rows))
    out.append(f"<script>{page_script.SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Markdown

def first_kernel_md(row):
    if row.first_kernel and row.commit:
        return f"{row.first_kernel} `{row.commit}`"
    return row.first_kernel or (f"*{row.seen_from}*" if row.seen_from else "")


def md_cell(row, i):
    cls, text, _, mark = row.cells[i]
    if row.section in ORDER and row.section != "helpers":
        text = MD_MARK.get(row.states[i], "·") if row.states[i] is not MISSING else "–"
    return text.replace("|", "\\|") + ("\\*" if mark else "")


def md_table(kernels, first_col, rows, with_section=False):
    out = [f"| {first_col} | first kernel | " + " | ".join(f"{k['name']} ({kernel_label(k)})" for k, _ in kernels) + " |",
           "|---|---|" + "---|" * len(kernels)]
    for row in rows:
        name = f"{row.section}/`{row.name}`" if with_section else row.name
        out.append(f"| {name} | {first_kernel_md(row)} | " + " | ".join(md_cell(row, i) for i in range(len(kernels)))
                   + " |")
    return out


def render_md(summary, kernels):
    sections = all_rows(kernels)
    new_in, changed = differences(kernels, sections)
    out = ["# bpfprobe: BPF features by kernel", "",
           f"Generated by `matrix/run.py` from a run started {summary.get('started', '?')} (QEMU/TCG, Debian "
           "kernel packages, bpfprobe as root in each guest). ✅ supported, ❌ unsupported, ❔ unknown, "
           "· not defined by that kernel; *≤ 5.10* / *new in 6.1*: the first kernel of this matrix with it (no "
           "upstream record). The HTML version ([grid.html](grid.html)) shows each verdict's reason and evidence "
           "on hover, the helpers per program type and a filter.", "", "## Contents", "",
           "- [Kernels](#kernels)", "- [Differs between kernels](#differs-between-kernels)"]
    for i in sorted(new_in):
        k = kernels[i][0]
        out.append(f"  - [New in {k['name']} ({kernel_label(k)})](#{md_anchor('New in ' + k['name'] + ' (' + kernel_label(k) + ')')})"
                   f" ({len(new_in[i])})")
    out.append(f"  - [Verdict changes](#verdict-changes) ({len(changed)})")
    by_arch = arch_differences(kernels, sections)
    if by_arch:
        out.append(f"- [Differs between architectures](#differs-between-architectures) ({len(by_arch)})")
    for section, title, rows in sections:
        out.append(f"- [{title}](#{md_anchor(title)}) ({len(rows)})")
    out += ["", "## Kernels", "", "| entry | release | Debian packages | status | kernel boot | bpfprobe | "
            "tests (pass/fail/skip) |", "|---|---|---|---|---|---|---|"]
    for k, _ in kernels:
        g = k.get("guest_times", {})
        pk = "<br>".join(f"{p['name']} {p['version']}" for p in k.get("packages", []))
        tests = "<br>".join(f"{n} {c['passed']}/{c['failed']}/{c['skipped']}" for n, c in k.get("tests", {}).items())
        out.append(f"| {k['name']} | {k.get('release', '-')} | {pk} | {k['status']} | {g.get('boot', '-')} s | "
                   f"{g.get('bpfprobe', '-')} s | {tests or '-'} |")
    out += ["", "## Differs between kernels", "",
            "Only the rows whose verdict is not the same on every kernel with a report."]
    for i in sorted(new_in):
        k = kernels[i][0]
        out += ["", f"### New in {k['name']} ({kernel_label(k)})", ""] + md_table(kernels, "fact", new_in[i], True)
    out += ["", "### Verdict changes", ""] + md_table(kernels, "fact", changed, True)
    if by_arch:
        out += ["", "## Differs between architectures", "",
                "The same upstream kernel version on amd64 and another architecture, and the facts whose verdict "
                "is not the same; the evidence is each side's reason.", "",
                "| fact | kernel | amd64 | other | evidence (amd64 / other) |", "|---|---|---|---|---|"]
        for version, a, b, arch, row in by_arch:
            ca, cb = row.cells[a], row.cells[b]
            ev = f"{ca[2]} / {arch}: {cb[2]}".replace("|", "\\|").replace("\n", " ")
            out.append(f"| {row.section}/`{row.name}` | {version} | {md_cell(row, a)} | {md_cell(row, b)} {arch} | {ev} |")
    for section, title, rows in sections:
        out += ["", f"## {title}", ""]
        if section == "helpers":
            out += ["Number of program types each helper is supported for (`+N?`: unknown for N more).", ""]
        out += md_table(kernels, section, rows)
        out += md_notes(kernels, rows)
    return "\n".join(out) + "\n"


def md_notes(kernels, rows):
    """Footnotes for cells marked * (a deviation from the first kernel that matrix/exceptions.tsv accepts)."""
    grouped = {}
    for row in rows:
        for (k, _), (_, _, _, mark) in zip(kernels, row.cells):
            if mark:
                grouped.setdefault((mark, row.name), []).append(k["name"])
    if not grouped:
        return []
    by_reason = {}
    for (reason, fact), ks in grouped.items():
        by_reason.setdefault((reason, ", ".join(ks)), []).append(f"`{fact}`")
    return ["", "\\* deviation accepted by `matrix/exceptions.tsv` (reason given):", ""] + [
        f"- {', '.join(facts)} on {ks}: {reason}" for (reason, ks), facts in by_reason.items()]


def write(out, dirs):
    """Render OUT's results into grid.html and grid.md in each of DIRS; returns the paths written."""
    summary, kernels = load(out)
    return pages.write_pages({"grid.html": render_html(summary, kernels), "grid.md": render_md(summary, kernels)},
                             dirs)


if __name__ == "__main__":
    pages.main(write, os.path.join(REPO, "build", "matrix"))
