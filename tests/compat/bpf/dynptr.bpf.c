// Calls every dynptr accessor on a local dynptr (after bpf_dynptr_adjust when the kernel has it), a
// null one, and skb dynptrs that are read-only (socket filter) and writable (tc).
#include <bpfprobe/compat/dynptr.bpf.h>

#include "results.h"

extern int bpf_dynptr_adjust___test(const struct bpf_dynptr* p, __u32 start, __u32 end) __ksym __weak;
extern int bpf_dynptr_from_skb___test(struct __sk_buff* skb, __u64 flags, struct bpf_dynptr* ptr__uninit) __ksym __weak;

struct dynptr_result local_result, null_result, skb_result;
// The kernel's BPF_DYNPTR_TYPE_LOCAL and _SKB, relocated by CO-RE.
__u32 type_local, type_skb;
char buf[64];

static __always_inline void fill(struct dynptr_result* r, const struct bpf_dynptr* d) {
  r->size = bpfprobe_dynptr_size(d);
  r->offset = bpfprobe_dynptr_offset(d);
  r->type = bpfprobe_dynptr_type(d);
  r->is_rdonly = bpfprobe_dynptr_is_rdonly(d);
  r->is_null = bpfprobe_dynptr_is_null(d);
  r->ran = 1;
}

// Narrows `d` to [start, end) where the kernel has bpf_dynptr_adjust, then fills `r` from it.
static __always_inline void adjust_and_fill(struct dynptr_result* r, struct bpf_dynptr* d, __u32 start, __u32 end) {
  if (bpf_ksym_exists(bpf_dynptr_adjust___test)) {
    bpf_dynptr_adjust___test(d, start, end);
    r->adjusted = 1;
  }
  fill(r, d);
}

SEC("raw_tp")
int dynptr_local(void* ctx) {
  struct bpf_dynptr d;
  bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d);
  adjust_and_fill(&local_result, &d, 3, 40);
  type_local = bpf_core_enum_value(enum bpf_dynptr_type, BPF_DYNPTR_TYPE_LOCAL);
  return 0;
}

// A non-zero flags argument makes bpf_dynptr_from_mem fail and leave a null dynptr.
SEC("raw_tp")
int dynptr_null(void* ctx) {
  struct bpf_dynptr d;
  bpf_dynptr_from_mem(buf, sizeof(buf), 1, &d);
  fill(&null_result, &d);
  return 0;
}

static __always_inline int from_skb(struct __sk_buff* skb) {
  struct bpf_dynptr d;
  if (!bpf_ksym_exists(bpf_dynptr_from_skb___test)) return 0;
  if (bpf_dynptr_from_skb___test(skb, 0, &d)) return 0;
  adjust_and_fill(&skb_result, &d, 2, 30);
  type_skb = bpf_core_enum_value(enum bpf_dynptr_type, BPF_DYNPTR_TYPE_SKB);
  return 0;
}

SEC("socket")
int dynptr_skb_ro(struct __sk_buff* skb) { return from_skb(skb); }

SEC("tc")
int dynptr_skb_rw(struct __sk_buff* skb) { return from_skb(skb); }

char LICENSE[] SEC("license") = "GPL";
