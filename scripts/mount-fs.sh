#!/usr/bin/env bash
# Mounts the pseudo filesystems probes and tests rely on, where they are missing (needs root).
set -u
mnt() { mountpoint -q "$2" 2>/dev/null || { mkdir -p "$2" && mount -t "$1" "$1" "$2" 2>/dev/null; } || true; }
mnt bpf /sys/fs/bpf
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mnt securityfs /sys/kernel/security
exit 0
