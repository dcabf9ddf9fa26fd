// A map defined the pre-BTF way: struct bpf_map_def in SEC("maps"), as iproute2 and old loaders
// (and libbpf before 1.0) read them. No vmlinux.h, no BTF needed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct legacy_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct legacy_map_def legacy_counts SEC("maps") = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 4,
};

SEC("socket")
int legacy_count(struct __sk_buff* skb) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&legacy_counts, &k);
  if (v) *v += 1;
  return 0;
}

SEC("xdp")
int legacy_bystander(struct xdp_md* ctx) { return XDP_PASS; }
