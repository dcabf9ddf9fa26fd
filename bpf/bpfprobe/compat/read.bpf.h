/* Reading kernel memory.
 *
 *   tier 1 KERNEL  bpf_probe_read_kernel() (5.5)
 *   tier 2 LEGACY  bpf_probe_read(): the same on architectures where kernel and user addresses do not
 *                  overlap (x86, arm64); other architectures and lockdown=confidentiality lack it
 *
 * bpfprobe_core_read(dst, sz, &ptr->member) relocates the member's offset with CO-RE, like
 * libbpf's bpf_core_read(). */
#ifndef BPFPROBE_COMPAT_READ_BPF_H
#define BPFPROBE_COMPAT_READ_BPF_H

#include <bpfprobe/compat/common.bpf.h>

BPFPROBE_ACCESSOR(probe_read_kernel);

static __always_inline long bpfprobe_probe_read_kernel(void* dst, __u32 size, const void* src) {
  __u32 tier = BPFPROBE_TIER(probe_read_kernel);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpfprobe_helper_exists(probe_read_kernel) ? BPFPROBE_READ_KERNEL : BPFPROBE_READ_LEGACY;
  if (tier == BPFPROBE_READ_KERNEL) return bpf_probe_read_kernel(dst, size, src);
  if (tier == BPFPROBE_READ_LEGACY) return bpf_probe_read(dst, size, src);
  BPFPROBE_UNAVAILABLE(probe_read_kernel);
  return -1;
}

#define bpfprobe_core_read(dst, sz, src) \
  bpfprobe_probe_read_kernel(dst, sz, (const void*)__builtin_preserve_access_index(src))

#endif /* BPFPROBE_COMPAT_READ_BPF_H */
