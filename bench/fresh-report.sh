#!/usr/bin/env bash
# Times the README's first command on a fresh Debian bookworm: a debootstrap'd minbase root (no packages
# beyond the base, empty caches) sharing this kernel, a clone of this checkout's HEAD inside, then
# `./scripts/run-report.sh` there (package installs, CLI build, report), timed end to end. Needs root and
# the Debian mirror. Everything it mounts is unmounted and the root removed at the end.
# Usage: bench/fresh-report.sh [WORKDIR]   (default: a new directory under /var/tmp)
set -euo pipefail
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=${1:-$(mktemp -d /var/tmp/bpfprobe-fresh.XXXXXX)}
root=$work/bookworm
cleanup() {
  for m in dev sys proc; do umount -R "$root/$m" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
mirror=$(grep -rhoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1)
debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
git clone -q "$src" "$root/root/bpfprobe"
start=$(date +%s.%N)
rc=0
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
  /bin/bash -c 'cd /root/bpfprobe && ./scripts/run-report.sh' >"$work/report.out" 2>&1 || rc=$?
end=$(date +%s.%N)
echo "fresh-report: rc=$rc, $(echo "$end - $start" | bc) s from a fresh bookworm root to the report ($(grep -c '' "$work/report.out") lines in $work/report.out)"
exit "$rc"
