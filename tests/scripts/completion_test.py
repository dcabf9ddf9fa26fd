#!/usr/bin/env python3
"""completions/bpfprobe.bash run in bash against the built CLI (its fact keys come from
`bpfprobe --list-keys`, which reads the catalog and the running kernel's BTF), and the man pages
the build made from --help (when help2man was there), and completions/_bpfprobe in zsh (loaded by
compinit in `zsh -f`, then completing lines in a pseudo-terminal: tests/scripts/zsh_complete.zsh).
BPFPROBE_COMPLETION and BPFPROBE_ZSH_COMPLETION_DIR name other copies to test (tests/consumer/run.sh:
the ones a .deb installs, with its CLI and pages).

Usage: completion_test.py BPFPROBE_CLI SOURCE_DIR MAN_DIR"""
import os
import shutil
import subprocess
import sys
import unittest

CLI, SRC, MAN = sys.argv[1:4]
del sys.argv[1:4]
SCRIPT = os.environ.get("BPFPROBE_COMPLETION") or os.path.join(SRC, "completions", "bpfprobe.bash")
ZSH_DIR = os.environ.get("BPFPROBE_ZSH_COMPLETION_DIR") or os.path.join(SRC, "completions")
ZSH_DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zsh_complete.zsh")


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
        self.assertEqual(complete(f"{CLI} check --ta", [CLI, "check", "--ta"]), ["--target"])

    def test_list_keys_rejects_an_unknown_family(self):
        out = subprocess.run([CLI, "--list-keys", "nosuchfamily"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stdout, "")


def zsh(*args):
    out = subprocess.run(["zsh", "-f", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout


def zsh_complete(line):
    """The matches zsh offers for `line`, as a set."""
    return set(zsh(ZSH_DRIVER, ZSH_DIR, line).split())


@unittest.skipUnless(shutil.which("zsh"), "zsh is not installed (scripts/install-deps.sh installs it)")
class ZshCompletion(unittest.TestCase):
    def test_compinit_registers_it(self):
        self.assertTrue(os.path.isfile(os.path.join(ZSH_DIR, "_bpfprobe")))
        out = zsh("-c", 'fpath=("$1" $fpath); autoload -Uz compinit && compinit -u -D; print -r -- "$_comps[bpfprobe]"',
                  "zsh", ZSH_DIR)
        self.assertEqual(out.strip(), "_bpfprobe")

    def test_commands_and_flags(self):
        self.assertEqual(zsh_complete(f"{CLI} ch"), {"check"})
        self.assertIn("--require", zsh_complete(f"{CLI} --req"))
        self.assertEqual(zsh_complete(f"{CLI} check --format "), {"text", "json", "github", "junit", "sarif"})
        self.assertEqual(zsh_complete(f"{CLI} check --no"), {"--no-load"})
        self.assertEqual(zsh_complete(f"{CLI} check --ta"), {"--target"})

    def test_require_keys_from_the_cli(self):
        got = zsh_complete(f"{CLI} --require map:ri")
        self.assertIn("map:ringbuf", got)
        self.assertTrue(all(g.startswith("map:ri") for g in got), got)
        self.assertEqual(zsh_complete(f"{CLI} --require prog:xdp,he"), {"helper:"})
        self.assertIn("helper:xdp:bpf_redirect", zsh_complete(f"{CLI} --require prog:xdp,helper:xdp:bpf_redir"))


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
