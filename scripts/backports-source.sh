#!/usr/bin/env bash
# Prints a deb822 apt source for bookworm-backports on the mirror this machine already uses for
# bookworm: the URIs and Signed-By of the first enabled `deb` source with suite `bookworm`, read in
# apt's order (sources.list, then sources.list.d/*.list and *.sources by name; one-line and deb822
# formats). Falls back to deb.debian.org only when no such source is found.
# Usage: backports-source.sh [APT_DIR]   (default $BPFPROBE_APT_DIR, else /etc/apt)
set -euo pipefail
apt_dir=${1:-${BPFPROBE_APT_DIR:-/etc/apt}}

files=()
[ -f "$apt_dir/sources.list" ] && files+=("$apt_dir/sources.list")
for f in "$apt_dir"/sources.list.d/*; do
  case $f in *.list | *.sources) [ -f "$f" ] && files+=("$f") ;; esac
done

found=""
if [ ${#files[@]} -gt 0 ]; then
  # Output: line 1 the file, line 2 the URIs, then the Signed-By value (several lines when the key is
  # inline in a deb822 stanza: continuation lines are kept as they are). Nothing when none matches.
  found=$(awk '
    function has(list, word,   n, i, a) {
      n = split(list, a, /[ \t]+/)
      for (i = 1; i <= n; i++) if (a[i] == word) return 1
      return 0
    }
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
    # A deb822 stanza ends: keep it when it is an enabled deb source of bookworm on a usable URI.
    function stanza_end() {
      if (!done && has(f["types"], "deb") && has(f["suites"], "bookworm") && tolower(f["enabled"]) != "no" &&
          f["uris"] != "" && f["uris"] !~ /^cdrom:/) {
        printf "%s\n%s\n%s\n", FILENAME, f["uris"], f["signed-by"]
        done = 1
      }
      delete f
      key = ""
    }
    FNR == 1 && prev != "" { if (prev ~ /\.sources$/) stanza_end() }
    { prev = FILENAME }
    done { next }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^#/) next
      if ($0 ~ /^[ \t]*\r?$/) { stanza_end(); next }
      if ($0 ~ /^[ \t]/) { if (key != "") f[key] = f[key] "\n" $0; next }
      i = index($0, ":")
      if (i == 0) next
      key = tolower(trim(substr($0, 1, i - 1)))
      f[key] = trim(substr($0, i + 1))
      next
    }
    {
      line = $0
      sub(/#.*/, "", line)
      n = split(line, w, /[ \t]+/)
      j = 1
      if (w[j] == "") j++
      if (w[j] != "deb") next
      j++
      signed = ""
      if (substr(w[j], 1, 1) == "[") {
        opts = ""
        for (; j <= n; j++) { opts = opts " " w[j]; if (w[j] ~ /\]$/) break }
        j++
        gsub(/[\[\]]/, " ", opts)
        m = split(opts, o, /[ \t]+/)
        for (k = 1; k <= m; k++) if (tolower(o[k]) ~ /^signed-by=/) signed = substr(o[k], 11)
      }
      if (w[j + 1] == "bookworm" && w[j] !~ /^cdrom:/) {
        printf "%s\n%s\n%s\n", FILENAME, w[j], signed
        done = 1
      }
    }
    END { if (prev ~ /\.sources$/) stanza_end() }
  ' "${files[@]}")
fi

if [ -n "$found" ]; then
  from=$(sed -n 1p <<<"$found")
  uris=$(sed -n 2p <<<"$found")
  signed=$(sed -n '3,$p' <<<"$found")
else
  from="none found in $apt_dir, Debian's default"
  uris=http://deb.debian.org/debian
  signed=/usr/share/keyrings/debian-archive-keyring.gpg
fi
echo "# bookworm-backports on the bookworm mirror ($from), written by bpfprobe's scripts/install-deps.sh"
echo "Types: deb"
echo "URIs: $uris"
echo "Suites: bookworm-backports"
echo "Components: main"
if [ -n "$signed" ]; then echo "Signed-By: $signed"; fi
