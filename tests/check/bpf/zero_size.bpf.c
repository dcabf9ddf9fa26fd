// What applications complete before load: a map shipped with max_entries 0 (sized with
// bpf_map__set_max_entries) and a program in a section libbpf does not know (typed with
// bpf_program__set_type). As shipped libbpf fails both; neither is decidable from the object.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u64);
} sized_by_app SEC(".maps");

SEC("socket")
int uses_zero_map(struct __sk_buff* skb) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&sized_by_app, &key) != 0;
}

SEC("bpfprobe_unknown_kind")
int unknown_section(struct __sk_buff* skb) {
  return 0;
}
