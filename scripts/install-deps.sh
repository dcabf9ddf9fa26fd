#!/usr/bin/env bash
# Installs every build, test and matrix dependency from Debian packages (bookworm + bookworm-backports).
# Idempotent: safe to run again. Needs root (or sudo). `--cli`: only what configuring and building the
# CLI needs (scripts/run-report.sh; no QEMU, no browser). (`--docs` is accepted and adds nothing: the
# browser scripts/docs.sh takes its screenshot with is installed for the Grid.browser test anyway.)
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
# What configuring (tests included: their packages are small) and building the CLI need.
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config clang llvm ccache \
  libelf-dev zlib1g-dev libzstd-dev \
  libboost-dev libcli11-dev nlohmann-json3-dev \
  libgtest-dev libgmock-dev googletest libbenchmark-dev help2man python3 >/dev/null
if [ "${1:-}" = "--cli" ]; then
  echo "install-deps: done (CLI)"
  exit 0
fi
$SUDO apt-get install -y -qq --no-install-recommends \
  clang-14 libclang-rt-14-dev dwarves iproute2 util-linux procps time bc man-db zsh python3-jsonschema \
  qemu-system-x86 busybox-static cpio zstd xz-utils dpkg-dev ca-certificates >/dev/null
# The arm64 cross build (scripts/build.sh --arch arm64; its arm64 libraries are not installed but
# extracted by matrix/userland.py) and the arm64 guests (qemu-system-aarch64).
$SUDO apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu qemu-system-arm >/dev/null
# Headless chromium and its chromedriver, driven through selenium: the Grid.browser test (the HTML pages in a
# real browser) and scripts/docs.sh's screenshot. About 133 MB to download, 430 MB installed on bookworm.
$SUDO apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver python3-selenium fonts-dejavu-core >/dev/null
echo "install-deps: done"
