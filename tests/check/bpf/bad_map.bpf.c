// A map of a type no kernel defines: libbpf creates every map of the object, so no program loads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, 200);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u32);
} future SEC(".maps");

SEC("socket")
int uses_future_map(struct __sk_buff* skb) { return 0; }
