/* Time since boot.
 *
 *   tier 1 BOOT  bpf_ktime_get_boot_ns() (5.8): CLOCK_BOOTTIME, counts suspend
 *   tier 2 MONO  bpf_ktime_get_ns(): CLOCK_MONOTONIC, which stops while the machine is suspended, so
 *                it is boot time minus the total time spent suspended (equal on a machine that never
 *                suspended; user space can read the difference as CLOCK_BOOTTIME - CLOCK_MONOTONIC) */
#ifndef BPFPROBE_COMPAT_TIME_BPF_H
#define BPFPROBE_COMPAT_TIME_BPF_H

#include <bpfprobe/compat/common.bpf.h>

BPFPROBE_ACCESSOR(ktime_boot);

static __always_inline __u64 bpfprobe_ktime_get_boot_ns(void) {
  __u32 tier = BPFPROBE_TIER(ktime_boot);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpfprobe_helper_exists(ktime_get_boot_ns) ? BPFPROBE_KTIME_BOOT : BPFPROBE_KTIME_MONO;
  if (tier == BPFPROBE_KTIME_BOOT) return bpf_ktime_get_boot_ns();
  if (tier == BPFPROBE_KTIME_MONO) return bpf_ktime_get_ns();
  BPFPROBE_UNAVAILABLE(ktime_boot);
  return 0;
}

#endif /* BPFPROBE_COMPAT_TIME_BPF_H */
