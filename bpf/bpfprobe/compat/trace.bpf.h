/* Function address and attach cookie in kprobe and uprobe programs (BPF_PROG_TYPE_KPROBE).
 *
 * func_ip_uprobe, func_ip_kprobe:
 *   tier 1 HELPER  bpf_get_func_ip() (kprobes 5.15; uprobes 6.6, before which it returns 0 there; the
 *                  6.6 change added struct bpf_trace_run_ctx.is_uprobe, which AUTO checks with CO-RE)
 *   tier 2 REGS    the instruction pointer in pt_regs. A uprobe handler sees the probed address (the
 *                  kernel rewinds the IP to the breakpoint before running handlers). A kprobe handler on
 *                  x86 sees the address after the int3 (the ftrace path emulates that), so one is
 *                  subtracted there. Where it differs from the helper: on kernels with IBT a kprobe on a
 *                  function sits after its endbr64, 4 bytes past the start the helper reports; for a
 *                  kprobe inside a function the helper returns 0 and this the probed address.
 *
 * attach_cookie:
 *   tier 1 HELPER  bpf_get_attach_cookie() (5.15)
 *   tier 2 MAP     a lookup in the hash map bpfprobe_cookies, keyed by the tier-2 function address
 *                  above; user space fills it (bpfprobe::compat::set_cookie) with one entry per
 *                  attachment. 0 when there is none, as the helper answers for an attachment without one.
 */
#ifndef BPFPROBE_COMPAT_TRACE_BPF_H
#define BPFPROBE_COMPAT_TRACE_BPF_H

#include <bpfprobe/compat/common.bpf.h>

#ifndef BPFPROBE_COOKIE_MAX_ENTRIES
#define BPFPROBE_COOKIE_MAX_ENTRIES 256
#endif

BPFPROBE_ACCESSOR(func_ip_kprobe);
BPFPROBE_ACCESSOR(func_ip_uprobe);
BPFPROBE_ACCESSOR(attach_cookie);

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BPFPROBE_COOKIE_MAX_ENTRIES);
  __type(key, __u64);
  __type(value, __u64);
} bpfprobe_cookies SEC(".maps");

/* Names the member for a CO-RE existence check without needing it in this vmlinux.h. */
struct bpf_trace_run_ctx___bpfprobe {
  bool is_uprobe;
} __attribute__((preserve_access_index));

static __always_inline __u64 bpfprobe__regs_ip_kprobe(struct pt_regs* ctx) {
#if defined(__TARGET_ARCH_x86)
  return PT_REGS_IP(ctx) - 1;
#else
  return PT_REGS_IP(ctx);
#endif
}

static __always_inline __u64 bpfprobe_func_ip_kprobe(struct pt_regs* ctx) {
  __u32 tier = BPFPROBE_TIER(func_ip_kprobe);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpfprobe_helper_exists(get_func_ip) ? BPFPROBE_FUNC_IP_HELPER : BPFPROBE_FUNC_IP_REGS;
  if (tier == BPFPROBE_FUNC_IP_HELPER) return bpf_get_func_ip(ctx);
  if (tier == BPFPROBE_FUNC_IP_REGS) return bpfprobe__regs_ip_kprobe(ctx);
  BPFPROBE_UNAVAILABLE(func_ip_kprobe);
  return 0;
}

static __always_inline __u64 bpfprobe_func_ip_uprobe(struct pt_regs* ctx) {
  __u32 tier = BPFPROBE_TIER(func_ip_uprobe);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpfprobe_helper_exists(get_func_ip) && bpf_core_field_exists(struct bpf_trace_run_ctx___bpfprobe, is_uprobe)
               ? BPFPROBE_FUNC_IP_HELPER
               : BPFPROBE_FUNC_IP_REGS;
  if (tier == BPFPROBE_FUNC_IP_HELPER) return bpf_get_func_ip(ctx);
  if (tier == BPFPROBE_FUNC_IP_REGS) return PT_REGS_IP(ctx);
  BPFPROBE_UNAVAILABLE(func_ip_uprobe);
  return 0;
}

static __always_inline __u64 bpfprobe__cookie(void* ctx, __u64 ip) {
  __u32 tier = BPFPROBE_TIER(attach_cookie);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpfprobe_helper_exists(get_attach_cookie) ? BPFPROBE_COOKIE_HELPER : BPFPROBE_COOKIE_MAP;
  if (tier == BPFPROBE_COOKIE_HELPER) return bpf_get_attach_cookie(ctx);
  if (tier == BPFPROBE_COOKIE_MAP) {
    __u64* cookie = bpf_map_lookup_elem(&bpfprobe_cookies, &ip);
    return cookie ? *cookie : 0;
  }
  BPFPROBE_UNAVAILABLE(attach_cookie);
  return 0;
}

static __always_inline __u64 bpfprobe_attach_cookie_uprobe(struct pt_regs* ctx) {
  return bpfprobe__cookie(ctx, PT_REGS_IP(ctx));
}

static __always_inline __u64 bpfprobe_attach_cookie_kprobe(struct pt_regs* ctx) {
  return bpfprobe__cookie(ctx, bpfprobe__regs_ip_kprobe(ctx));
}

#endif /* BPFPROBE_COMPAT_TRACE_BPF_H */
