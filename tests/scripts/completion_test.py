#!/usr/bin/env python3
"""completions/bpfprobe.bash run in bash against the built CLI (its fact keys come from
`bpfprobe --list-keys`, which reads the catalog and the running kernel's BTF), and the man pages
the build made from --help (when help2man was there). BPFPROBE_COMPLETION names another copy of the
completion script to test (tests/consumer/run.sh: the one a .deb installs, with its CLI and pages).

Usage: completion_test.py BPFPROBE_CLI SOURCE_DIR MAN_DIR"""
import os
import subprocess
import sys
import unittest

CLI, SRC, MAN = sys.argv[1:4]
del sys.argv[1:4]
SCRIPT = os.environ.get("BPFPROBE_COMPLETION") or os.path.join(SRC, "completions", "bpfprobe.bash")


def complete(line, words):
    """COMPREPLY for `line` (the cursor at its end), split by bash into `words` as readline would."""
    script = f"""
source {SCRIPT!r}
COMP_LINE={line!r}
COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=({' '.join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
_bpfprobe
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [w for w in out.stdout.splitlines() if w]


class Completion(unittest.TestCase):
    def test_require_key_after_colon(self):
        # bash splits "map:ri" at ':' and replaces only what follows it.
        got = complete(f"{CLI} --require map:ri", [CLI, "--require", "map", ":", "ri"])
        self.assertIn("ringbuf", got)
        self.assertTrue(all(g.startswith("ri") for g in got), got)

    def test_require_family(self):
        got = complete(f"{CLI} --require he", [CLI, "--require", "he"])
        self.assertEqual(got, ["helper:"])

    def test_require_helper_of_a_program_type_in_a_list(self):
        got = complete(f"{CLI} --require prog:xdp,helper:xdp:bpf_redir",
                       [CLI, "--require", "prog", ":", "xdp,helper", ":", "xdp", ":", "bpf_redir"])
        self.assertIn("bpf_redirect", got)

    def test_commands_and_flags(self):
        self.assertEqual(complete(f"{CLI} ch", [CLI, "ch"]), ["check"])
        self.assertIn("--require", complete(f"{CLI} --req", [CLI, "--req"]))
        got = complete(f"{CLI} check --format ", [CLI, "check", "--format", ""])
        self.assertEqual(sorted(got), ["github", "json", "junit", "sarif", "text"])
        self.assertIn("--no-load", complete(f"{CLI} check --no", [CLI, "check", "--no"]))

    def test_list_keys_rejects_an_unknown_family(self):
        out = subprocess.run([CLI, "--list-keys", "nosuchfamily"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stdout, "")


@unittest.skipUnless(os.path.exists(os.path.join(MAN, "bpfprobe.1")), "no help2man at build time")
class ManPages(unittest.TestCase):
    def test_pages_are_made_from_the_help(self):
        with open(os.path.join(MAN, "bpfprobe.1")) as f:
            main = f.read()
        with open(os.path.join(MAN, "bpfprobe-check.1")) as f:
            check = f.read()
        self.assertTrue(main.startswith(".\\\"") or ".TH" in main)
        self.assertIn("require", main)
        self.assertIn("sarif", check)
        self.assertIn("no\\-load", check)


if __name__ == "__main__":
    unittest.main()
