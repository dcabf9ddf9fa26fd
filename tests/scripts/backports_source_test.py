#!/usr/bin/env python3
"""scripts/backports-source.sh on apt configurations written to temporary directories (never /etc/apt):
the bookworm-backports source it prints takes the URIs and Signed-By of the machine's bookworm source,
one-line or deb822, and falls back to deb.debian.org only when there is none. When apt-get is
installed, apt itself parses each printed source (indextargets, no network)."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "backports-source.sh")
FALLBACK = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def parse(text):
    """Fields of the printed deb822 stanza (continuation lines joined with newlines)."""
    fields, key = {}, None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0] in " \t":
            fields[key] += "\n" + line
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


class BackportsSource(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bpfprobe-apt-")
        os.mkdir(os.path.join(self.dir, "sources.list.d"))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))

    def run_script(self, via_env=False):
        env = dict(os.environ)
        args = [SCRIPT]
        if via_env:
            env["BPFPROBE_APT_DIR"] = self.dir
        else:
            args.append(self.dir)
        out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr, "")
        fields = parse(out.stdout)
        self.assertEqual(fields["Types"], "deb")
        self.assertEqual(fields["Suites"], "bookworm-backports")
        self.assertEqual(fields["Components"], "main")
        self.apt_accepts(out.stdout)
        return fields

    def apt_accepts(self, text):
        """apt parses the printed source: it lists bookworm-backports targets for it."""
        if not shutil.which("apt-get"):
            return
        with tempfile.TemporaryDirectory(prefix="bpfprobe-apt-parts-") as parts:
            with open(os.path.join(parts, "backports.sources"), "w") as f:
                f.write(text)
            out = subprocess.run(["apt-get", "-o", "Dir::Etc::SourceList=/dev/null", "-o",
                                  "Dir::Etc::SourceParts=" + parts, "indextargets", "--no-release-info", "--format", "$(RELEASE)"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn("E:", out.stderr)
            self.assertIn("bookworm-backports", out.stdout.split())

    def test_deb822_skips_security_and_disabled(self):
        # Debian's default layout: a snapshot comment, then bookworm-security on its own URI after.
        self.write("sources.list.d/aaa-disabled.sources", """
            Types: deb
            URIs: http://disabled.example/debian
            Suites: bookworm
            Components: main
            Enabled: no
            """)
        self.write("sources.list.d/debian.sources", """
            Types: deb deb-src
            # http://snapshot.debian.org/archive/debian/20250520T000000Z
            URIs: http://mirror.example/debian/
            Suites: bookworm bookworm-updates
            Components: main contrib
            Signed-By: /usr/share/keyrings/mirror.gpg

            Types: deb
            URIs: http://security.example/debian-security
            Suites: bookworm-security
            Components: main
            Signed-By: /usr/share/keyrings/security.gpg
            """)
        fields = self.run_script()
        self.assertEqual(fields["URIs"], "http://mirror.example/debian/")
        self.assertEqual(fields["Signed-By"], "/usr/share/keyrings/mirror.gpg")

    def test_deb822_second_stanza_and_last_without_blank_line(self):
        self.write("sources.list.d/debian.sources",
                   "Types: deb\nURIs: http://security.example/x\nSuites: bookworm-security\nComponents: main\n\n"
                   "Types: deb\nURIs: mirror+file:///etc/apt/mirrors/debian.list\nSuites: bookworm\n"
                   "Components: main")
        fields = self.run_script()
        self.assertEqual(fields["URIs"], "mirror+file:///etc/apt/mirrors/debian.list")
        self.assertNotIn("Signed-By", fields)  # none there: apt's trusted keys, as for the bookworm source

    def test_deb822_inline_key_kept(self):
        self.write("sources.list.d/debian.sources", """
            Types: deb
            URIs: http://mirror.example/debian
            Suites: bookworm
            Components: main
            Signed-By:
             -----BEGIN PGP PUBLIC KEY BLOCK-----
             .
             mDMEZxxxxxxxxx
             -----END PGP PUBLIC KEY BLOCK-----
            """)
        fields = self.run_script(via_env=True)
        self.assertEqual(fields["URIs"], "http://mirror.example/debian")
        key = fields["Signed-By"].splitlines()
        self.assertEqual(key[0], "")
        self.assertEqual([k.strip() for k in key[1:]],
                         ["-----BEGIN PGP PUBLIC KEY BLOCK-----", ".", "mDMEZxxxxxxxxx",
                          "-----END PGP PUBLIC KEY BLOCK-----"])

    def test_one_line_with_options(self):
        self.write("sources.list", """
            # deb http://commented.example/debian bookworm main
            deb-src http://src.example/debian bookworm main
            deb http://security.example/debian-security bookworm-security main
            deb [ arch=amd64 signed-by=/usr/share/keyrings/one.gpg ] http://one.example/debian bookworm main
            """)
        fields = self.run_script()
        self.assertEqual(fields["URIs"], "http://one.example/debian")
        self.assertEqual(fields["Signed-By"], "/usr/share/keyrings/one.gpg")

    def test_sources_list_read_before_parts(self):
        self.write("sources.list", "deb [signed-by=/k.gpg] http://first.example/debian bookworm main\n")
        self.write("sources.list.d/a.list", "deb http://second.example/debian bookworm main\n")
        self.write("sources.list.d/b.sources", "Types: deb\nURIs: http://third.example/debian\n"
                   "Suites: bookworm\nComponents: main\n")
        self.assertEqual(self.run_script()["URIs"], "http://first.example/debian")
        os.remove(os.path.join(self.dir, "sources.list"))
        self.assertEqual(self.run_script()["URIs"], "http://second.example/debian")

    def test_fallback_when_nothing_usable(self):
        # Files apt does not read, other releases, a CD-ROM: nothing to take the mirror from.
        self.write("sources.list", "deb cdrom:[Debian GNU/Linux 12]/ bookworm main\n"
                   "deb http://old.example/debian bullseye main\n")
        self.write("sources.list.d/mirror.list.disabled", "deb http://off.example/debian bookworm main\n")
        fields = self.run_script()
        self.assertEqual(fields["URIs"], FALLBACK)
        self.assertEqual(fields["Signed-By"], KEYRING)

    def test_fallback_for_missing_directory(self):
        shutil.rmtree(self.dir)
        os.mkdir(self.dir)  # no sources.list, no sources.list.d
        fields = self.run_script()
        self.assertEqual(fields["URIs"], FALLBACK)
        self.assertEqual(fields["Signed-By"], KEYRING)


if __name__ == "__main__":
    sys.exit(unittest.main())
