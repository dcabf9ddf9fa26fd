"""The compatibility grid's rows: facts x kernels read from a matrix results directory, one cell per
kernel, and the rows whose verdict differs between kernels. matrix/grid.py renders them as HTML and
Markdown."""

import json
import os

ORDER = ["program_types", "map_types", "helpers", "links", "attach_mechanisms", "kfuncs", "dynptr", "iterators", "misc",
         "config"]
TITLES = {"program_types": "Program types", "map_types": "Map types", "helpers": "Helpers", "links": "Link types",
          "attach_mechanisms": "Attach mechanisms", "kfuncs": "kfuncs", "dynptr": "dynptr", "iterators": "Iterators",
          "misc": "Miscellaneous", "config": "Kernel config (as read in the guest)"}
CHOICE_TITLES = {"attach": "Attach: the path chosen per hook",
                 "compat": "Compat accessors: the tier each accessor gets (bpf/bpfprobe/compat)"}
MARK = {"supported": "✓", "unsupported": "✗", "unknown": "?", None: "·"}
# A compat accessor without a usable tier, or a hook without a usable path.
NO_CHOICE = (None, "", "none", "unavailable")


def load(out):
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    kernels = []
    for k in summary["kernels"]:
        path = os.path.join(out, k["name"], "report.json")
        try:
            with open(path) as f:
                report = json.load(f)
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


def kernel_label(k):
    return k.get("upstream_version") or k.get("release") or k["name"]


def marks_of(k):
    return k.get("checks", {}).get("expectations", {}).get("marks", {})


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


def no_report_title(k):
    return f"no report from this kernel (run status: {k.get('status', '?')})"


def choice_options(v):
    """The candidates of an attach hook or the tiers of a compat accessor, best first."""
    opts = v.get("candidates") if isinstance(v.get("candidates"), list) else v.get("tiers")
    return [c for c in (opts or []) if isinstance(c, dict)]


def choice_title(v):
    """Hover text of a choice cell: what was chosen and every option with its status and reason."""
    chosen = v.get("chosen", v.get("tier")) or "none"
    lines = [f"chosen: {chosen}" + (f" (for {v['for']})" if v.get("for") else "")]
    for c in choice_options(v):
        line = f"{c.get('path', c.get('tier', '?'))}: {c.get('status', '?')}"
        if c.get("reason"):
            line += f" — {c['reason']}"
        if c.get("errno"):
            line += f" ({c['errno']})"
        lines.append(line)
    return "\n".join(lines)


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


def helper_mark(k, name):
    """The exception reason covering helper NAME on kernel K (the helper rule or any of its pairs)."""
    m = marks_of(k)
    if f"helpers/{name}" in m:
        return m[f"helpers/{name}"]
    return next((v for key, v in m.items() if key.startswith("helpers/") and key.endswith("/" + name)), None)


# --------------------------------------------------------------------------- rows (shared by HTML and Markdown)

class Row:
    """One fact across the kernels: its cells, its first kernel and the states the differs view compares."""

    def __init__(self, section, name):
        self.section, self.name = section, name
        self.first_kernel, self.commit, self.seen_from = "", "", ""
        self.cells = []   # per kernel: (css class, text, hover title, accepted-deviation mark or None)
        self.states = []  # per kernel: comparable verdict; None = not defined there; MISSING = no report

    def add(self, cls, text, title, state, mark=None):
        self.cells.append((cls, text, title, mark))
        self.states.append(state)


MISSING = object()


def documented(kernels, rows):
    """First kernel and commit from the reports (the facts tables); else where the matrix first has it."""
    for row in rows:
        for (k, report), state in zip(kernels, row.states):
            f = report.get(row.section, {}).get(row.name) if row.section != "helpers" else None
            if isinstance(f, dict) and f.get("first_kernel") and not row.first_kernel:
                row.first_kernel, row.commit = f["first_kernel"], f.get("commit", "")
        if row.section == "helpers":
            for _, r in kernels:
                for table in r.get("helpers", {}).values():
                    f = table.get(row.name)
                    if f and f.get("first_kernel") and not row.first_kernel:
                        row.first_kernel, row.commit = f["first_kernel"], f.get("commit", "")
        if not row.first_kernel:
            present = [i for i, s in enumerate(row.states) if s is not MISSING and s is not None]
            absent_before = any(s is None for s in row.states[:present[0]]) if present else False
            if present:
                label = kernel_label(kernels[present[0]][0])
                row.seen_from = f"new in {label}" if absent_before else f"≤ {label}"


def kernel_row(section, name, kernels, cell):
    """A row of one cell per kernel: '–' where the kernel left no report, else the cell
    `cell(i, k, r)` returns (row.add's arguments) for the i-th kernel k and its report r."""
    row = Row(section, name)
    for i, (k, r) in enumerate(kernels):
        if r:
            row.add(*cell(i, k, r))
        else:
            row.add("a", "–", no_report_title(k), MISSING)
    return row


def fact_rows(kernels, section):
    def cell(n):
        def of(_, k, r):
            f = r.get(section, {}).get(n)
            st = f.get("status") if isinstance(f, dict) else None
            mark = marks_of(k).get(f"{section}/{n}")
            title = cell_title(f) + (f" — accepted deviation: {mark}" if mark else "")
            return status_class(st), MARK.get(st, "·"), title, st, mark
        return of

    names = sorted({n for _, r in kernels for n, f in r.get(section, {}).items() if isinstance(f, dict)})
    return [kernel_row(section, n, kernels, cell(n)) for n in names]


def helper_rows(kernels):
    helpers, _ = helper_summary(kernels)

    def cell(name):
        def of(i, k, _):
            n_sup, n_unk, n_types = helpers[name][i]
            if n_types == 0:
                return "a", "·", "not defined by this kernel", None
            mark = helper_mark(k, name)
            cls = "s" if n_sup else ("q" if n_unk else "u")
            title = f"supported for {n_sup} of {n_types} program types" + (f", {n_unk} unknown" if n_unk else "")
            title += f" — accepted deviation: {mark}" if mark else ""
            # Compared between kernels: usable somewhere or not (the counts grow with program types).
            return cls, f"{n_sup}" + (f" +{n_unk}?" if n_unk else ""), title, cls, mark
        return of

    return [kernel_row("helpers", name, kernels, cell(name)) for name in sorted(helpers)]


def choice_rows(kernels, section):
    def cell(n):
        def of(_, k, r):
            v = r.get(section, {}).get(n)
            if not isinstance(v, dict):
                return "a", "·", "not reported by this kernel's bpfprobe", None
            chosen = v.get("chosen", v.get("tier"))
            shown = str(chosen) if chosen not in (None, "") else "none"
            return "u" if chosen in NO_CHOICE else "s", shown, choice_title(v), shown
        return of

    names = sorted({n for _, r in kernels for n in r.get(section, {})})
    return [kernel_row(section, n, kernels, cell(n)) for n in names]


def all_rows(kernels):
    """[(section, title, rows)] in page order (helpers after map types, choices last)."""
    out = []
    for section in flat_sections(kernels):
        out.append((section, TITLES.get(section, section), fact_rows(kernels, section)))
        if section == "map_types":
            hr = helper_rows(kernels)
            if hr:
                out.append(("helpers", TITLES["helpers"], hr))
    for section in choice_sections(kernels):
        out.append((section, CHOICE_TITLES.get(section, section), choice_rows(kernels, section)))
    # Kernel config options and attach/compat choices have no first kernel of their own.
    for section, _, rows in out:
        if section != "config" and section not in CHOICE_TITLES:
            documented(kernels, rows)
    return out


def differences(kernels, sections):
    """({kernel index: rows new there}, rows whose verdict changes otherwise): kernels without a report
    are left out of the comparison."""
    new_in, changed = {}, []
    for _, _, rows in sections:
        for row in rows:
            seen = [(i, s) for i, s in enumerate(row.states) if s is not MISSING]
            if len({s for _, s in seen}) <= 1:
                continue
            defined = [(i, s) for i, s in seen if s is not None]
            first = defined[0][0] if defined else None
            if (defined and len({s for _, s in defined}) == 1
                    and all(s is None for i, s in seen if i < first) and all(s is not None for i, s in seen if i > first)):
                new_in.setdefault(first, []).append(row)
            else:
                changed.append(row)
    return new_in, changed


def arch_pairs(kernels):
    """[(version, amd64 index, other index, other arch)]: for each upstream version the matrix ran on
    amd64 and on another architecture, the first kernel of each with a report."""
    first = {}
    for i, (k, r) in enumerate(kernels):
        if r:
            first.setdefault((kernel_label(k), k.get("arch", "amd64")), i)
    return [(v, first[(v, "amd64")], i, a) for (v, a), i in first.items() if a != "amd64" and (v, "amd64") in first]


def arch_differences(kernels, sections):
    """[(version, amd64 index, other index, arch, row)]: the rows whose verdict differs between
    architectures on the same kernel version (the evidence is in each cell's title)."""
    out = []
    for version, a, b, arch in arch_pairs(kernels):
        for _, _, rows in sections:
            for row in rows:
                if row.states[a] is not MISSING and row.states[b] is not MISSING and row.states[a] != row.states[b]:
                    out.append((version, a, b, arch, row))
    return out
