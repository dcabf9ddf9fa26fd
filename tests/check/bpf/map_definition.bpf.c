// Maps whose type the kernel has but whose definition it refuses: an LPM trie must be created with
// BPF_F_NO_PREALLOC (every kernel since LPM tries, 4.11). libbpf creates every map of the object, so
// no program loads; the static check learns it by creating the map as declared.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct lpm_key {
  u32 prefixlen;
  u32 addr;
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 16);
  __type(key, struct lpm_key);
  __type(value, u32);
} preallocated_trie SEC(".maps");

SEC("socket")
int uses_trie(struct __sk_buff* skb) {
  struct lpm_key k = {32, 0};
  u32* v = bpf_map_lookup_elem(&preallocated_trie, &k);
  return v ? *v : 0;
}

SEC("xdp")
int bystander(struct xdp_md* ctx) { return XDP_PASS; }
