// Helpers given a map of a type the kernel refuses for them ("cannot pass map_type N into func"):
// a perf event array is neither a ring buffer nor a map to look up in. The last one is fine.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
} perf_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} ring SEC(".maps");

SEC("socket")
int ringbuf_output_on_perf_array(struct __sk_buff* skb) {
  __u64 v = skb->len;
  bpf_ringbuf_output(&perf_events, &v, sizeof(v), 0);
  return 0;
}

SEC("socket")
int lookup_in_perf_array(struct __sk_buff* skb) {
  int k = 0;
  return bpf_map_lookup_elem(&perf_events, &k) != 0;
}

SEC("socket")
int ringbuf_output_on_ringbuf(struct __sk_buff* skb) {
  __u64 v = skb->len;
  bpf_ringbuf_output(&ring, &v, sizeof(v), 0);
  return 0;
}
