// A bloom filter map (5.16): loads on newer kernels, not on 5.10/5.15.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 16);
  __type(value, u32);
} seen SEC(".maps");

SEC("socket")
int uses_bloom_filter(struct __sk_buff* skb) {
  u32 v = skb->len;
  return bpf_map_peek_elem(&seen, &v) == 0;
}
