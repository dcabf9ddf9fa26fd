// Code guarded by `const volatile` globals (.rodata, frozen by libbpf before loading): the verifier
// knows their values and skips the dead branch.
#include "corpus.h"

const volatile bool use_kprobe_only = false;
const volatile int level = 2;
const volatile __u32 target_pid = 0;
volatile int mutable_level = 0;

// Dead as compiled: a helper a socket filter may not call.
SEC("socket")
int ro_dead_redirect(struct __sk_buff* skb) {
  if (use_kprobe_only) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

// Live as compiled.
SEC("socket")
int ro_live_redirect(struct __sk_buff* skb) {
  if (level > 1) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

// A global in .data may change at run time: the verifier must assume both branches.
SEC("socket")
int data_guarded_redirect(struct __sk_buff* skb) {
  if (mutable_level > 5) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

SEC("tp/sched/sched_switch")
int ro_pid_filter(void* ctx) {
  if (target_pid && (bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
  count();
  return 0;
}

// A dead branch that would read out of a map value's bounds.
SEC("kprobe/vfs_read")
int ro_dead_oob(void* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&hits, &k);
  if (!v) return 0;
  if (level > 100) return v[8];
  return *v;
}

// The same read, live.
SEC("kprobe/vfs_read")
int ro_live_oob(void* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&hits, &k);
  if (!v) return 0;
  if (level > 1) return v[8];
  return *v;
}
