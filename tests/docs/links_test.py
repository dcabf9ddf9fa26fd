#!/usr/bin/env python3
"""The README and docs link only to files inside the repository: every link in README.md,
matrix/README.md and docs/*.{md,html} is an anchor or a relative path to a file of this tree (plus an
anchor that the target Markdown file has)."""
import pathlib
import re
import sys
import unittest
from urllib.parse import unquote

ROOT = pathlib.Path(__file__).resolve().parents[2]
MD_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HTML_LINK = re.compile(r"""(?:href|src)=['"]([^'"]+)['"]""")


def headings(md_file):
    """GitHub's anchors of a Markdown file's headings."""
    out = set()
    for line in md_file.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def documents():
    yield ROOT / "README.md"
    yield ROOT / "matrix" / "README.md"
    yield from sorted((ROOT / "docs").glob("*.md"))
    yield from sorted((ROOT / "docs").glob("*.html"))


def links(doc):
    text = doc.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks are not links
    pattern = HTML_LINK if doc.suffix == ".html" else MD_LINK
    return [m.group(1) for m in pattern.finditer(text)]


class DocsLinks(unittest.TestCase):
    def test_every_link_stays_inside_the_repository(self):
        checked = 0
        for doc in documents():
            for target in links(doc):
                checked += 1
                with self.subTest(doc=str(doc.relative_to(ROOT)), link=target):
                    self.assertNotRegex(target, r"^[a-z][a-z0-9+.-]*:", "links outside the repository")
                    path, _, anchor = target.partition("#")
                    if not path:
                        if doc.suffix == ".md" and anchor:
                            self.assertIn(anchor, headings(doc))
                        continue
                    dest = (doc.parent / unquote(path)).resolve()
                    self.assertTrue(dest.is_relative_to(ROOT), "leaves the repository")
                    self.assertTrue(dest.exists(), "no such file")
                    if anchor and dest.suffix == ".md":
                        self.assertIn(anchor, headings(dest))
        self.assertGreater(checked, 10)


if __name__ == "__main__":
    sys.exit(unittest.main())
