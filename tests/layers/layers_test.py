#!/usr/bin/env python3
"""The folders of include/bpfprobe are layers and no include runs upward: a header includes only
headers of its own folder or of a lower layer. The order is the one docs/architecture.md describes."""
import pathlib
import re
import sys
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "include" / "bpfprobe"

# Lowest first; folders on one line are the same layer and must not include each other.
LAYERS = [
    {"config.hpp", "version.hpp", "catalog_version.hpp"},  # build configuration (top-level files)
    {"sys"},
    {"insn", "btf"},
    {"probe"},  # engine: verdict, classify, context, cache, parallel_for, fact keys
    {"catalog"},  # one row per fact and its probe function, by family
    {"report"},  # the report model, section builders, renderers
    {"prober"},  # the prober: single facts, cached, and the full report
    {"decide", "compat"},
    {"attach", "check"},
    {"prober.hpp"},  # what applications include: the prober handle,
    {"bpfprobe.hpp", "configure.hpp"},  # everything, and the compat configuration
    {"impl"},  # the definitions of the handles (BPFPROBE_IMPLEMENTATION): one translation unit
]

# The implementation switch: prober.hpp and configure.hpp include the implementation (and each other)
# inside `#ifdef BPFPROBE_IMPLEMENTATION` blocks, in the one translation unit that compiles it. Those
# blocks are not includes of the header that holds them.
SWITCH_BLOCK = re.compile(r"^\s*#\s*ifdef\s+BPFPROBE_IMPLEMENTATION\b.*?^\s*#\s*endif\b", re.M | re.S)
INCLUDE_LINE = re.compile(r"^\s*#\s*include\s*<bpfprobe/([^>]+)>", re.M)


def unit_of(rel):
    """A header's layer unit: its folder, or its own name at the top level."""
    return rel.split("/")[0]


def rank(unit):
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    return None


def headers():
    return sorted(p for p in INCLUDE.rglob("*") if p.suffix in (".hpp", ".ipp", ".h"))


def tree():
    """{header path below include/bpfprobe: its text}"""
    return {p.relative_to(INCLUDE).as_posix(): p.read_text(encoding="utf-8") for p in headers()}


def violations(files):
    out = []
    for rel, text in files.items():
        own = unit_of(rel)
        if rank(own) is not None and rank(own) >= rank("prober.hpp"):
            text = SWITCH_BLOCK.sub("", text)
        for target in INCLUDE_LINE.findall(text):
            other = unit_of(target)
            if other == own:
                continue
            a, b = rank(own), rank(other)
            if a is None or b is None:
                out.append(f"{rel}: <bpfprobe/{target}>: {own if a is None else other} is in no layer")
            elif b >= a:
                out.append(f"{rel}: includes <bpfprobe/{target}> ({other} is not below {own})")
    return out


class Layers(unittest.TestCase):
    def test_every_folder_has_a_layer(self):
        units = {unit_of(rel) for rel in tree()}
        self.assertEqual(sorted(u for u in units if rank(u) is None), [])

    def test_no_include_runs_upward(self):
        self.assertEqual(violations(tree()), [])

    def test_the_check_finds_upward_sideways_and_unknown_includes(self):
        files = {
            "probe/context.hpp": "#include <bpfprobe/catalog/links.hpp>\n",  # engine -> catalog
            "decide/facts.hpp": "  #  include <bpfprobe/compat/report.hpp>\n",  # same layer
            "catalog/links.hpp": "#include <bpfprobe/newfolder/x.hpp>\n",  # no layer
            "attach/xdp.hpp": "// #include <bpfprobe/bpfprobe.hpp>\n#include <bpfprobe/sys/netlink.hpp>\n",
            # the implementation switch is allowed in the public handle headers only
            "prober.hpp": "#ifdef BPFPROBE_IMPLEMENTATION\n#include <bpfprobe/impl/library.ipp>\n#endif\n",
            "prober/cache.hpp": "#ifdef BPFPROBE_IMPLEMENTATION\n#include <bpfprobe/impl/library.ipp>\n#endif\n",
        }
        found = violations(files)
        self.assertEqual(len(found), 4, found)
        self.assertIn("probe/context.hpp: includes <bpfprobe/catalog/links.hpp>", found[0])
        self.assertIn("compat is not below decide", found[1])
        self.assertIn("newfolder is in no layer", found[2])
        self.assertIn("prober/cache.hpp: includes <bpfprobe/impl/library.ipp>", found[3])


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False, verbosity=1).result.wasSuccessful() else 1)
