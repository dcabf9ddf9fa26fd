#!/usr/bin/env python3
"""Writes the crafted and corrupt BTF corpus under tests/fuzz/corpus/btf/ (deterministic).

The base BTF is built here, not copied from a kernel: `enum bpf_prog_type`, `bpf_map_type`,
`bpf_attach_type`, `bpf_link_type` (values from include/bpfprobe/btf/builtin_enums.hpp) and
`enum bpf_func_id` (values from the uapi header the build uses), an `int`, a self-referencing
struct and one kfunc (`bpf_rdonly_cast` with a `bpf_kfunc` decl tag). Most variants start from a
small subset of those enums so that the corpus stays small.

A file's name says what bpfprobe must do with it (tests/fuzz/btf_corpus_test.cpp checks it):
  ok-*   accepted: every name a C identifier, every known enum value equal to the build's;
  bad-*  rejected as a usage error (crafted names, wrong ABI values, broken layout);
  any-*  either, but when accepted the same invariants hold (bit flips, odd headers, cycles).

Usage: tests/fuzz/make-btf-corpus.py [--out DIR] [--uapi /usr/include/linux/bpf.h]
"""
import argparse
import os
import random
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

sys.path.insert(0, HERE)
from btf_writer import (  # noqa: E402
    ARRAY, CONST, DATASEC, DECL_TAG, ENUM, ENUM64, FUNC, FUNC_PROTO, FWD, PTR, RESTRICT, STRUCT, TYPEDEF, TYPE_TAG,
    VOLATILE, Btf, elf_wrap)


def builtin_tables():
    """name -> [(lower name, value)] for the four hand-written tables of builtin_enums.hpp."""
    text = open(os.path.join(ROOT, "include/bpfprobe/btf/builtin_enums.hpp")).read()
    out = {}
    for table in ("builtin_prog_types", "builtin_map_types", "builtin_link_types", "builtin_attach_types"):
        body = re.search(table + r"\[\] = \{(.*?)\n\};", text, re.S).group(1)
        out[table] = [(n, int(v)) for n, v in re.findall(r'\{"(\w+)", (\d+)\}', body)]
    return out


def uapi_helpers(path):
    text = open(path).read()
    return [(n, int(v)) for n, v in re.findall(r"FN\((\w+), (\d+), ##ctx\)", text)]


def make_base(tables, helpers, subset=None, edit=None, extra=None):
    """The base BTF. `subset` keeps only those lower-case names per enum; `edit(enum, values)` may
    change an enum's (NAME, value) list; `extra(btf)` adds types at the end."""
    b = Btf()
    i = b.int_("int")
    enums = [
        ("bpf_prog_type", "BPF_PROG_TYPE_", tables["builtin_prog_types"], True),
        ("bpf_map_type", "BPF_MAP_TYPE_", tables["builtin_map_types"], True),
        ("bpf_attach_type", "BPF_", tables["builtin_attach_types"], True),
        ("bpf_link_type", "BPF_LINK_TYPE_", tables["builtin_link_types"], True),
        ("bpf_func_id", "BPF_FUNC_", helpers, False),
    ]
    for name, prefix, rows, upper in enums:
        values = []
        if name != "bpf_attach_type":
            values.append((prefix + ("UNSPEC" if upper else "unspec"), 0))
        for n, v in rows:
            if n == "unspec" or (subset and n not in subset[name]):
                continue
            if name == "bpf_map_type" and n in ("cgroup_storage", "percpu_cgroup_storage"):
                values.append((prefix + n.upper() + "_DEPRECATED", v))  # the 6.2+ uapi spelling
            values.append((prefix + (n.upper() if upper else n), v))
        top = max((v for _, v in values), default=0) + 1
        values.append({"bpf_prog_type": ("__MAX_BPF_PROG_TYPE", top), "bpf_map_type": ("__MAX_BPF_MAP_TYPE", top),
                       "bpf_attach_type": ("__MAX_BPF_ATTACH_TYPE", top),
                       "bpf_link_type": ("__MAX_BPF_LINK_TYPE", top),
                       "bpf_func_id": ("__BPF_FUNC_MAX_ID", top)}[name])
        if edit:
            values = edit(name, values)
        b.enum(name, values)
    ptr_void = b.add(PTR, "", 0)
    node = b.struct("corpus_node", 16, [("next", len(b.types) + 2, 0), ("value", i, 64)])
    b.add(PTR, "", node)  # the pointer corpus_node.next refers to: a legitimate cycle through a pointer
    proto = b.proto(ptr_void, [("obj__ign", ptr_void), ("btf_id__k", i)])
    func = b.add(FUNC, "bpf_rdonly_cast", proto, vlen=1)
    b.decl_tag("bpf_kfunc", func)
    if extra:
        extra(b)
    return b


MINI = {
    "bpf_prog_type": {"socket_filter", "sched_cls", "tracepoint", "xdp", "tracing", "syscall"},
    "bpf_map_type": {"hash", "array", "cgroup_storage", "ringbuf"},
    "bpf_attach_type": {"cgroup_inet_ingress", "cgroup_inet_egress", "xdp", "tcx_ingress"},
    "bpf_link_type": {"cgroup", "xdp", "tcx"},
    "bpf_func_id": {"map_lookup_elem", "map_update_elem", "trace_printk", "redirect", "skb_load_bytes",
                    "ringbuf_output"},
}


def build(tables, helpers):
    files = {}
    rng = random.Random(20261201)

    full = make_base(tables, helpers)
    mini = make_base(tables, helpers, MINI)
    mini_raw = mini.raw()

    # --- accepted ---------------------------------------------------------------------------------
    files["ok-base-full.btf"] = full.raw()
    files["ok-base-mini.btf"] = mini_raw
    files["ok-base-full-big-endian.btf"] = full.raw(">")
    files["ok-base-mini-big-endian.btf"] = mini.raw(">")
    files["ok-elf-full.elf"] = elf_wrap(full.raw())
    files["ok-elf-mini.elf"] = elf_wrap(mini_raw)
    files["ok-elf-btf-second-section.elf"] = elf_wrap(None, [(".text", 1, b"\x95" + b"\0" * 7), (".BTF", 1, mini_raw)])
    files["ok-no-enums.btf"] = make_base(tables, helpers, {k: set() for k in MINI},
                                         edit=lambda n, v: []).raw()
    files["ok-only-int.btf"] = (lambda b: (b.int_("int"), b)[1])(Btf()).raw()
    files["ok-empty-type-section.btf"] = Btf().raw()

    def newer(name, values):  # a newer kernel: names this build does not know, at values it does not use
        return values[:-1] + [(values[0][0].rsplit("_", 1)[0] + "_CORPUS_NEW" if name != "bpf_func_id"
                               else "BPF_FUNC_corpus_new", 1000 + len(name))] + values[-1:]
    files["ok-newer-kernel-names.btf"] = make_base(tables, helpers, MINI, edit=newer).raw()

    def older(name, values):  # an older kernel: the newest names are missing
        return values[: max(2, len(values) // 2)]
    files["ok-older-kernel-subset.btf"] = make_base(tables, helpers, edit=older).raw()
    files["ok-enum-missing-helpers.btf"] = make_base(
        tables, helpers, MINI, edit=lambda n, v: v if n != "bpf_func_id" else []).raw()
    b = make_base(tables, helpers, MINI)
    for t in b.types:
        if t["kind"] == ENUM:
            t["kind"] = ENUM64
            t["st"] = 8
            t["extra"] = [("III", (vals[0], vals[1] & 0xffffffff, 0)) for _, vals in t["extra"]]
    files["ok-enum64-encoding.btf"] = b.raw()
    files["ok-name-512-chars.btf"] = make_base(tables, helpers, MINI,
                                               extra=lambda b: b.struct("s" * 512, 4, [])).raw()
    files["ok-non-utf8-datasec-name.btf"] = make_base(
        tables, helpers, MINI, extra=lambda b: b.add(DATASEC, b"\xff.data\xfe", 0)).raw()
    files["ok-int-type-words.btf"] = make_base(
        tables, helpers, MINI, extra=lambda b: b.int_("long long unsigned int", 8, False)).raw()
    files["ok-duplicate-alias-known-first.btf"] = make_base(
        tables, helpers, MINI,
        edit=lambda n, v: v + [("BPF_PROG_TYPE_XDP_CORPUS_ALIAS", 6)] if n == "bpf_prog_type" else v).raw()

    # --- crafted names: rejected ------------------------------------------------------------------
    hostile = {
        "newline-error": "\n#error injected\n",
        "error-only": "#error injected",
        "double-quote": 'A"B',
        "single-quote": "A'B",
        "backslash": "A\\B",
        "space": "A B",
        "non-utf8": b"\xff\xfeA",
        "utf8-letter": "A\u00e9",
        "leading-digit": "1A",
        "dollar": "A$B",
        "tab": "A\tB",
        "carriage-return": "A\rB",
        "escape-seq": "A\x1b[31mB",
        "comment-close": "A*/B",
        "over-long": "A" * 513,
        "very-long": "B" * 3000,
    }
    enum_targets = {"prog": ("bpf_prog_type", "BPF_PROG_TYPE_XDP"), "map": ("bpf_map_type", "BPF_MAP_TYPE_HASH"),
                    "attach": ("bpf_attach_type", "BPF_XDP"), "link": ("bpf_link_type", "BPF_LINK_TYPE_XDP"),
                    "helper": ("bpf_func_id", "BPF_FUNC_redirect")}

    def raw_name(name):
        return name.encode("utf-8") if isinstance(name, str) else name

    # Appended to a valid name, a leading digit is no longer leading: that one is only used whole.
    whole_too = ("newline-error", "error-only", "non-utf8", "double-quote", "leading-digit")
    for tag, (enum_name, victim) in enum_targets.items():
        for how, text in hostile.items():
            for mode in ("suffix", "whole"):
                if (mode == "whole" and how not in whole_too) or (mode == "suffix" and how == "leading-digit"):
                    continue

                def edit(n, values, enum_name=enum_name, victim=victim, text=text, mode=mode):
                    if n != enum_name:
                        return values
                    out = []
                    for name, v in values:
                        if name == victim:
                            name = (raw_name(name) + raw_name(text)) if mode == "suffix" else raw_name(text)
                        out.append((name, v))
                    return out
                files["bad-name-%s-%s-%s.btf" % (tag, how, mode)] = make_base(tables, helpers, MINI, edit=edit).raw()

    for how in ("newline-error", "non-utf8", "double-quote", "over-long", "space", "leading-digit"):
        text = raw_name(hostile[how])
        # Each name below is <valid prefix> + text; with a leading digit the name is the text alone.
        pre = (lambda p: b"") if how == "leading-digit" else (lambda p: p)
        # The kfunc's own name (its macro would be HAVE_KFUNC_<name>).
        b = make_base(tables, helpers, MINI)
        for t in b.types:
            if t["kind"] == FUNC:
                t["name"] = b.s(pre(b"bpf_rdonly_cast") + text)
        files["bad-name-kfunc-%s.btf" % how] = b.raw()
        # An untagged kfunc candidate (bpf_* FUNC).
        files["bad-name-candidate-%s.btf" % how] = make_base(
            tables, helpers, MINI,
            extra=lambda b, text=text, pre=pre: b.add(FUNC, pre(b"bpf_corpus") + text, 9, vlen=1)).raw()
        # Names in the kfunc prototype: a parameter, the struct and member, an enum's own name.
        b = make_base(tables, helpers, MINI)
        for t in b.types:
            if t["kind"] == FUNC_PROTO:
                t["extra"][0] = ("II", (b.s(pre(b"obj") + text), t["extra"][0][1][1]))
        files["bad-name-param-%s.btf" % how] = b.raw()
        b = make_base(tables, helpers, MINI)
        for t in b.types:
            if t["kind"] == STRUCT:
                t["name"] = b.s(pre(b"corpus") + text)
        files["bad-name-struct-%s.btf" % how] = b.raw()
        b = make_base(tables, helpers, MINI)
        for t in b.types:
            if t["kind"] == STRUCT:
                t["extra"][0] = ("III", (b.s(pre(b"next") + text),) + t["extra"][0][1][1:])
        files["bad-name-member-%s.btf" % how] = b.raw()
        files["bad-name-typedef-%s.btf" % how] = make_base(
            tables, helpers, MINI, extra=lambda b, text=text, pre=pre: b.add(TYPEDEF, pre(b"u32") + text, 1)).raw()
        if how != "space":  # "int" + "A B" is C type words, a valid INT name
            files["bad-name-int-%s.btf" % how] = make_base(
            tables, helpers, MINI, extra=lambda b, text=text, pre=pre: b.int_(pre(b"int") + text)).raw()
        files["bad-name-enum-type-%s.btf" % how] = make_base(
            tables, helpers, MINI, extra=lambda b, text=text, pre=pre: b.enum(pre(b"corpus") + text, [("CORPUS_A", 1)])).raw()
        files["bad-name-other-enumerator-%s.btf" % how] = make_base(
            tables, helpers, MINI, extra=lambda b, text=text, pre=pre: b.enum("corpus", [(pre(b"CORPUS") + text, 1)])).raw()
    files["bad-name-empty-enumerator.btf"] = make_base(
        tables, helpers, MINI,
        edit=lambda n, v: [("" if name == "BPF_PROG_TYPE_XDP" else name, x) for name, x in v]).raw()
    files["bad-name-prefix-only.btf"] = make_base(
        tables, helpers, MINI,
        edit=lambda n, v: [("BPF_PROG_TYPE_" if name == "BPF_PROG_TYPE_XDP" else name, x) for name, x in v]).raw()
    # Valid as a whole, but the name the report uses ("1x", without the prefix) is not (found by
    # scripts/run-fuzz.sh).
    for enum_name, prefix in (("bpf_prog_type", "BPF_PROG_TYPE_"), ("bpf_func_id", "BPF_FUNC_")):
        files["bad-name-stripped-leading-digit-%s.btf" % enum_name] = make_base(
            tables, helpers, MINI,
            edit=lambda n, v, e=enum_name, p=prefix: v + [(p + "1X", 1000)] if n == e else v).raw()
    files["bad-name-int-double-space.btf"] = make_base(
        tables, helpers, MINI, extra=lambda b: b.int_("long  int", 8)).raw()
    files["bad-name-full-newline-error.btf"] = make_base(
        tables, helpers,
        edit=lambda n, v: [(name + "\n#error injected" if name.endswith("_XDP") else name, x) for name, x in v]).raw()
    files["bad-name-elf-newline-error.elf"] = elf_wrap(files["bad-name-prog-newline-error-suffix.btf"])

    # --- ABI: renamed, swapped or changed enum values: rejected --------------------------------
    def rename(enum_name, old, new):
        return lambda n, v: [(new if (n == enum_name and name == old) else name, x) for name, x in v]

    def revalue(enum_name, changes):
        return lambda n, v: [(name, changes.get(name, x) if n == enum_name else x) for name, x in v]

    abi = {
        "renamed-prog-xdp": rename("bpf_prog_type", "BPF_PROG_TYPE_XDP", "BPF_PROG_TYPE_XDPX"),
        "renamed-prog-sched-cls": rename("bpf_prog_type", "BPF_PROG_TYPE_SCHED_CLS", "BPF_PROG_TYPE_TC"),
        "renamed-map-hash": rename("bpf_map_type", "BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_HASHTABLE"),
        "renamed-attach-xdp": rename("bpf_attach_type", "BPF_XDP", "BPF_XDP_CORPUS"),
        "renamed-link-tcx": rename("bpf_link_type", "BPF_LINK_TYPE_TCX", "BPF_LINK_TYPE_TC"),
        "renamed-helper-redirect": rename("bpf_func_id", "BPF_FUNC_redirect", "BPF_FUNC_redirect2"),
        "swapped-prog-sched-cls-tracepoint": revalue("bpf_prog_type",
                                                     {"BPF_PROG_TYPE_SCHED_CLS": 5, "BPF_PROG_TYPE_TRACEPOINT": 3}),
        "swapped-map-hash-array": revalue("bpf_map_type", {"BPF_MAP_TYPE_HASH": 2, "BPF_MAP_TYPE_ARRAY": 1}),
        "swapped-attach-ingress-egress": revalue("bpf_attach_type",
                                                 {"BPF_CGROUP_INET_INGRESS": 1, "BPF_CGROUP_INET_EGRESS": 0}),
        "swapped-link-xdp-tcx": revalue("bpf_link_type", {"BPF_LINK_TYPE_XDP": 11, "BPF_LINK_TYPE_TCX": 6}),
        "swapped-helper-lookup-update": revalue("bpf_func_id",
                                                {"BPF_FUNC_map_lookup_elem": 2, "BPF_FUNC_map_update_elem": 1}),
        "changed-prog-xdp-value": revalue("bpf_prog_type", {"BPF_PROG_TYPE_XDP": 600}),
        "changed-prog-xdp-negative": revalue("bpf_prog_type", {"BPF_PROG_TYPE_XDP": -6}),
        "changed-helper-redirect": revalue("bpf_func_id", {"BPF_FUNC_redirect": 24}),
        "changed-map-ringbuf": revalue("bpf_map_type", {"BPF_MAP_TYPE_RINGBUF": 28}),
        "changed-deprecated-alias": revalue("bpf_map_type", {"BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED": 20}),
        "repeated-name-other-value": lambda n, v: v + [("BPF_PROG_TYPE_XDP", 7)] if n == "bpf_prog_type" else v,
        "unknown-alias-before-known": lambda n, v: ([("BPF_PROG_TYPE_CORPUS_ALIAS", 6)] + v
                                                    if n == "bpf_prog_type" else v),
        "lower-case-prog-name-other-value": lambda n, v: v + [("BPF_PROG_TYPE_xdp", 9)] if n == "bpf_prog_type" else v,
    }
    for how, edit in abi.items():
        files["bad-abi-%s.btf" % how] = make_base(tables, helpers, MINI, edit=edit).raw()
    files["bad-abi-full-renamed-prog-xdp.btf"] = make_base(tables, helpers, edit=abi["renamed-prog-xdp"]).raw()
    files["bad-abi-elf-swapped-prog.elf"] = elf_wrap(files["bad-abi-swapped-prog-sched-cls-tracepoint.btf"])
    files["bad-abi-big-endian-renamed-xdp.btf"] = make_base(tables, helpers, MINI,
                                                            edit=abi["renamed-prog-xdp"]).raw(">")

    # --- layout: header, sections, strings -------------------------------------------------------
    types_len = len(mini.type_bytes())
    str_len = len(mini.strings)
    layout_bad = {
        "magic-zero": dict(magic=0),
        "magic-other": dict(magic=0x1234),
        "str-len-past-end": dict(str_len=str_len + 1),
        "str-len-huge": dict(str_len=0xffffffff),
        "str-off-past-end": dict(str_off=types_len + str_len),
        "str-off-huge": dict(str_off=0xfffffff0),
        "type-len-past-str": dict(type_len=types_len + 4),
        "type-len-huge": dict(type_len=0xfffffff0),
        "type-off-huge": dict(type_off=0xfffffff0),
        "type-off-unaligned": dict(type_off=2, type_len=types_len - 2),
        "hdr-len-huge": dict(hdr_len=0xffffffff),
        "hdr-len-past-end": dict(hdr_len=24 + types_len + str_len + 1),
        "sections-overlap": dict(str_off=types_len - 8),
        "type-len-short": dict(type_len=types_len - 4),
        "type-len-odd": dict(type_len=types_len - 1),
        "str-len-zero": dict(str_len=0),
        # Types would start misaligned (UBSan, found by scripts/run-fuzz.sh): refused by bpfprobe.
        "hdr-len-23": dict(hdr_len=23),
        "hdr-len-25": dict(hdr_len=25),
        "hdr-len-33": dict(hdr_len=33),
    }
    for how, hdr in layout_bad.items():
        files["bad-hdr-%s.btf" % how] = mini.raw(**hdr)
    layout_any = {
        "hdr-len-zero": dict(hdr_len=0),
        "hdr-len-8": dict(hdr_len=8),
        "hdr-len-32": dict(hdr_len=32),
        "version-0": dict(version=0),
        "version-2": dict(version=2),
        "version-255": dict(version=255),
        "flags-1": dict(flags=1),
        "flags-ff": dict(flags=0xff),
        "type-len-zero": dict(type_len=0),
        "str-len-one": dict(str_len=1),
        "str-off-shifted": dict(str_off=types_len + 1, str_len=str_len - 1),
    }
    for how, hdr in layout_any.items():
        files["any-hdr-%s.btf" % how] = mini.raw(**hdr)
    files["any-hdr-len-32-padded.btf"] = (lambda r: r[:24] + b"\0" * 8 + r[24:])(mini.raw(hdr_len=32))
    files["any-hdr-len-32-garbage.btf"] = (lambda r: r[:24] + b"\xa5" * 8 + r[24:])(mini.raw(hdr_len=32))
    files["bad-hdr-len-25-padded.btf"] = (lambda r: r[:24] + b"\0" + r[24:])(mini.raw(hdr_len=25))
    files["bad-hdr-len-25-big-endian.btf"] = (lambda r: r[:24] + b"\0" + r[24:])(mini.raw(">", hdr_len=25))
    files["bad-str-unterminated.btf"] = mini_raw[:-1] + b"X"
    files["bad-str-first-not-empty.btf"] = (lambda r: r[:24 + types_len] + b"X" + r[25 + types_len:])(mini_raw)
    files["bad-str-name-offset-past-end.btf"] = make_base(
        tables, helpers, MINI, extra=lambda b: b.types.append(
            dict(kind=STRUCT, name=0x7ffffff0, st=0, vlen=0, kflag=0, extra=[]))).raw()
    files["bad-str-enumerator-offset-past-end.btf"] = (lambda b: (
        b.types[1]["extra"].__setitem__(1, ("Ii", (len(b.strings) + 100, 1))), b)[1])(
        make_base(tables, helpers, MINI)).raw()
    files["bad-str-name-offset-at-end.btf"] = make_base(
        tables, helpers, MINI, extra=lambda b: b.types.append(
            dict(kind=STRUCT, name=len(b.strings), st=0, vlen=0, kflag=0, extra=[]))).raw()

    # --- types: huge vlen, bad kinds, ids out of range, cycles, zero sizes -----------------------
    def patch_type(kind, **fields):
        def go(b):
            for t in b.types:
                if t["kind"] == kind:
                    t.update(fields)
                    return
        return go

    def variant(fn, base_subset=MINI):
        b = make_base(tables, helpers, base_subset)
        fn(b)
        return b.raw()

    files["bad-type-enum-huge-vlen.btf"] = variant(patch_type(ENUM, vlen=0xffff))
    files["bad-type-struct-huge-vlen.btf"] = variant(patch_type(STRUCT, vlen=0xffff))
    files["bad-type-proto-huge-vlen.btf"] = variant(patch_type(FUNC_PROTO, vlen=0xffff))
    files["bad-type-enum-vlen-plus-one.btf"] = variant(lambda b: b.types[-1].update(kind=ENUM, vlen=1, st=4))
    files["bad-type-kind-zero.btf"] = variant(lambda b: b.types.append(dict(kind=0, name=0, st=0, vlen=0, kflag=0,
                                                                            extra=[])))
    files["bad-type-kind-31.btf"] = variant(lambda b: b.types.append(dict(kind=31, name=0, st=0, vlen=0, kflag=0,
                                                                          extra=[])))
    files["bad-type-ptr-to-missing-id.btf"] = variant(lambda b: b.add(PTR, "", 100000))
    files["bad-type-func-proto-missing.btf"] = variant(patch_type(FUNC, st=100000))
    files["bad-type-member-missing-id.btf"] = variant(
        lambda b: b.struct("corpus_bad", 4, [("m", 0x7fffffff, 0)]))
    files["bad-type-decl-tag-missing-target.btf"] = variant(patch_type(DECL_TAG, st=100000))
    files["any-type-decl-tag-component-huge.btf"] = variant(
        lambda b: b.types[-1].update(extra=[("i", 1000)]))
    files["any-type-func-proto-is-func.btf"] = variant(
        lambda b: [t.update(st=len(b.types) - 1) for t in b.types if t["kind"] == FUNC])

    def cycle(kinds):
        def go(b):
            first = len(b.types) + 1
            for k, kind in enumerate(kinds):
                nxt = first + (k + 1) % len(kinds)
                b.add(kind, "corpus_t%d" % k if kind == TYPEDEF else "", nxt)
            for t in b.types:  # the kfunc returns the cycle and takes it as a parameter
                if t["kind"] == FUNC_PROTO:
                    t["st"] = first
                    t["extra"][1] = ("II", (t["extra"][1][1][0], first))
        return go
    for name, kinds in {"typedef-self": [TYPEDEF], "typedef-pair": [TYPEDEF, TYPEDEF],
                        "const-self": [CONST], "ptr-self": [PTR], "volatile-const-typedef": [VOLATILE, CONST, TYPEDEF],
                        "restrict-ptr": [RESTRICT, PTR], "type-tag-self": [TYPE_TAG],
                        "long-chain-40": [CONST] * 40}.items():
        files["any-cycle-%s.btf" % name] = variant(cycle(kinds))
    files["any-cycle-array-self.btf"] = variant(
        lambda b: b.add(ARRAY, "", 0, extra=[("III", (len(b.types) + 1, 1, 4))]))
    files["any-cycle-struct-member-self.btf"] = variant(
        lambda b: b.struct("corpus_self", 4, [("me", len(b.types) + 1, 0)]))
    files["any-cycle-proto-returns-itself.btf"] = variant(
        lambda b: [t.update(st=b.types.index(t) + 1) for t in b.types if t["kind"] == FUNC_PROTO])
    files["any-zero-size-enum.btf"] = variant(lambda b: b.types[1].update(st=0))
    files["any-zero-size-int.btf"] = variant(lambda b: b.types[0].update(st=0, extra=[("I", 0)]))
    files["any-zero-size-struct.btf"] = variant(patch_type(STRUCT, st=0))
    files["any-enum-size-3.btf"] = variant(lambda b: b.types[1].update(st=3))
    files["any-enum-size-huge.btf"] = variant(lambda b: b.types[1].update(st=0xffffffff))
    files["any-int-bits-too-many.btf"] = variant(lambda b: b.types[0].update(extra=[("I", 1 << 24 | 200)]))
    files["any-enum-kflag-signed.btf"] = variant(lambda b: b.types[1].update(kflag=1))
    files["any-enum-empty.btf"] = variant(lambda b: b.types[1].update(vlen=0, extra=[]))
    files["any-two-prog-enums.btf"] = variant(
        lambda b: b.enum("bpf_prog_type", [("BPF_PROG_TYPE_XDP", 1)]))
    files["any-prog-enum-as-fwd.btf"] = variant(lambda b: b.types[1].update(kind=FWD, vlen=0, extra=[], st=0))
    files["any-func-linkage-9.btf"] = variant(patch_type(FUNC, vlen=9))
    files["any-struct-member-offset-huge.btf"] = variant(
        lambda b: b.struct("corpus_far", 4, [("far", 1, 0xffffffff)]))
    files["any-many-tags.btf"] = variant(lambda b: [b.decl_tag("bpf_kfunc", len(b.types) - k) for k in range(30)])

    # --- ELF containers ----------------------------------------------------------------------------
    elf = elf_wrap(mini_raw)
    files["bad-elf-no-btf-section.elf"] = elf_wrap(None, [(".text", 1, b"\0" * 8)])
    files["bad-elf-btf-offset-past-end.elf"] = elf_wrap(mini_raw, btf_offset=1 << 40)
    files["bad-elf-btf-size-past-end.elf"] = elf_wrap(mini_raw, btf_size=1 << 30)
    files["any-elf-btf-size-short.elf"] = elf_wrap(mini_raw, btf_size=len(mini_raw) // 2)
    files["any-elf-btf-nobits.elf"] = elf_wrap(mini_raw, btf_type=8)
    files["any-elf-btf-empty.elf"] = elf_wrap(b"")
    files["bad-elf-btf-random.elf"] = elf_wrap(bytes(rng.randrange(256) for _ in range(200)))
    files["bad-elf-shoff-past-end.elf"] = elf_wrap(mini_raw, shoff=1 << 40)
    files["bad-elf-shnum-huge.elf"] = elf_wrap(mini_raw, shnum=0xffff)
    files["bad-elf-shstrndx-out-of-range.elf"] = elf_wrap(mini_raw, shstrndx=200)
    files["bad-elf-name-offset-past-shstrtab.elf"] = elf_wrap(mini_raw, btf_name_off=100000)
    files["any-elf-two-btf-sections.elf"] = elf_wrap(None, [(".BTF", 1, mini_raw), (".BTF", 1, full.raw())])
    files["any-elf-machine-x86.elf"] = elf_wrap(mini_raw, machine=62)
    files["any-elf-corrupt-btf-inside.elf"] = elf_wrap(mini.raw(str_len=str_len + 9))
    for k, cut in enumerate(sorted({4, 16, 52, 63, 64, 100, len(elf) // 2, len(elf) - 64, len(elf) - 1})):
        files["bad-elf-truncated-%04d.elf" % cut] = elf[:cut]
    for k in range(12):
        data = bytearray(elf)
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        files["any-elf-bitflip-%02d-at-%04d.elf" % (k, pos)] = bytes(data)

    # --- truncations and bit flips of the small base ----------------------------------------------
    size = len(mini_raw)
    cuts = sorted(set([0, 1, 2, 3, 4, 8, 12, 16, 20, 23, 24, 25, 28, 36, 48, size - 1, size - 2, size - 8,
                       24 + types_len - 1, 24 + types_len, 24 + types_len + 1] +
                      [rng.randrange(25, size) for _ in range(45)]))
    for cut in cuts:
        files["bad-truncated-%05d.btf" % cut] = mini_raw[:cut]
    full_raw = full.raw()
    for cut in (len(full_raw) // 3, len(full_raw) - 1):
        files["bad-truncated-full-%05d.btf" % cut] = full_raw[:cut]
    files["any-appended-garbage.btf"] = mini_raw + b"\xde\xad\xbe\xef" * 4
    files["any-appended-second-btf.btf"] = mini_raw + mini_raw
    for k in range(80):
        data = bytearray(mini_raw)
        flips = 1 if k < 60 else rng.randrange(2, 8)
        where = []
        for _ in range(flips):
            # Half of the single flips land in the header and type section, where they matter most.
            pos = rng.randrange(24 + types_len) if (k % 2 == 0 and k < 60) else rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
            where.append(pos)
        files["any-bitflip-%02d-at-%05d.btf" % (k, where[0])] = bytes(data)
    for k in range(12):  # whole-byte and word overwrites in the type section
        data = bytearray(mini_raw)
        pos = 24 + 4 * rng.randrange(types_len // 4)
        data[pos:pos + 4] = struct.pack("<I", rng.choice([0, 0xffffffff, 0x7fffffff, 0x80000000, 0x0d00ffff]))
        files["any-word-%02d-at-%05d.btf" % (k, pos)] = bytes(data)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "corpus", "btf"))
    ap.add_argument("--uapi", default="/usr/include/linux/bpf.h")
    args = ap.parse_args()
    files = build(builtin_tables(), uapi_helpers(args.uapi))
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        os.unlink(os.path.join(args.out, old))
    for name, data in sorted(files.items()):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
    total = sum(len(d) for d in files.values())
    print("%d files, %d bytes in %s" % (len(files), total, args.out))


if __name__ == "__main__":
    sys.exit(main())
