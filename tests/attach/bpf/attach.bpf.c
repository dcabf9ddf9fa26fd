// Programs for the libbpf overloads of attach:: (bpf_program* from a skeleton). Each counts what it
// sees from this test process (or, for packets, frames of the test ethertype) into its own counter.
// vmlinux.h first: it defines the types libbpf's headers use.
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

const volatile __u32 target_tgid = 0;
const volatile __u16 target_ethertype = 0;

__u64 xdp_count, tc_count, egress_count, uprobe_count, tracepoint_count;

static __always_inline int ours(void) { return (bpf_get_current_pid_tgid() >> 32) == target_tgid; }

SEC("xdp")
int count_xdp(struct xdp_md* ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) <= end && eth->h_proto == bpf_htons(target_ethertype)) __sync_fetch_and_add(&xdp_count, 1);
  return XDP_PASS;
}

SEC("tc")
int count_tc(struct __sk_buff* skb) {
  if (skb->protocol == bpf_htons(target_ethertype)) __sync_fetch_and_add(&tc_count, 1);
  return 0; /* TC_ACT_OK */
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff* skb) {
  __sync_fetch_and_add(&egress_count, 1);
  return 1;
}

// A program of section `sec` that counts the hits of this test process in `counter`.
#define COUNT_OURS(sec, name, counter)             \
  SEC(sec)                                         \
  int name(void* ctx) {                            \
    if (ours()) __sync_fetch_and_add(&counter, 1); \
    return 0;                                      \
  }

COUNT_OURS("uprobe", count_uprobe, uprobe_count)
COUNT_OURS("uprobe.multi", count_uprobe_multi, uprobe_count)
COUNT_OURS("tp_btf/task_rename", count_tp_btf, tracepoint_count)
COUNT_OURS("raw_tp/task_rename", count_raw_tp, tracepoint_count)
COUNT_OURS("tracepoint/task/task_rename", count_tracepoint, tracepoint_count)

char LICENSE[] SEC("license") = "GPL";
