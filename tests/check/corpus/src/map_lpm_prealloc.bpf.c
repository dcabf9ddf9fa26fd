// An LPM trie without BPF_F_NO_PREALLOC: the kernel refuses to create it, so every program fails.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 16);
  __type(key, __u64);
  __type(value, __u32);
} bad_lpm SEC(".maps");

SEC("socket")
int lpm_user(struct __sk_buff* skb) {
  __u64 k = 32;
  return bpf_map_lookup_elem(&bad_lpm, &k) != 0;
}

SEC("xdp")
int lpm_bystander(struct xdp_md* ctx) { return XDP_PASS; }
