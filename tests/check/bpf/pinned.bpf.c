// A map pinned by name (LIBBPF_PIN_BY_NAME): libbpf reuses /sys/fs/bpf/bpfprobe_check_pin when a
// matching map is pinned there, else creates and pins it, and fails when /sys/fs/bpf is no bpffs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfprobe_check_pin SEC(".maps");

SEC("socket")
int uses_pinned(struct __sk_buff* skb) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&bpfprobe_check_pin, &key) != 0;
}
