#!/usr/bin/env bash
# Installs every build, test and matrix dependency from Debian packages (bookworm + bookworm-backports).
# Idempotent: safe to run again. Needs root (or sudo). `--docs` adds chromium for scripts/docs.sh.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

backports=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # On the mirror the machine already uses for bookworm (scripts/backports-source.sh).
  "$(dirname "$0")/backports-source.sh" | $SUDO tee "$backports" >/dev/null
fi

stamp=/var/lib/apt/periodic/bpfprobe-update-stamp
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ] || [ -n "${BPFPROBE_APT_UPDATE:-}" ]; then
  $SUDO apt-get update -qq
  $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
fi

export DEBIAN_FRONTEND=noninteractive
# Newer libbpf, bpftool and uapi headers come from bookworm-backports.
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
  libbpf-dev bpftool linux-libc-dev >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config clang llvm clang-14 libclang-rt-14-dev ccache \
  libelf-dev zlib1g-dev libzstd-dev \
  libboost-dev libcli11-dev nlohmann-json3-dev \
  libgtest-dev libgmock-dev googletest libbenchmark-dev \
  dwarves iproute2 util-linux procps time bc help2man man-db zsh python3-jsonschema \
  qemu-system-x86 busybox-static cpio zstd xz-utils dpkg-dev ca-certificates python3 >/dev/null
# --docs: the headless browser scripts/docs.sh takes the grid's screenshot with (only the docs step needs it).
if [ "${1:-}" = "--docs" ]; then
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
echo "install-deps: done"
