// A map pinned by name: libbpf pins it under /sys/fs/bpf, which must be a bpffs.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfprobe_corpus_pinned SEC(".maps");

SEC("kprobe/vfs_read")
int pinned_user(void* ctx) {
  __u32 k = 0;
  __u64 v = 1;
  return bpf_map_update_elem(&bpfprobe_corpus_pinned, &k, &v, BPF_ANY);
}

SEC("xdp")
int pinned_bystander(struct xdp_md* ctx) { return XDP_PASS; }
