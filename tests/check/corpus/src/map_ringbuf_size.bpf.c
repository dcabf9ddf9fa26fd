// A ring buffer whose size is not a power-of-two multiple of the page size: libbpf rounds it up
// before creating the map (the kernel alone would refuse it).
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 12345);
} odd_rb SEC(".maps");

SEC("tp/sched/sched_switch")
int rb_user(void* ctx) {
  __u32 v = 1;
  return bpf_ringbuf_output(&odd_rb, &v, sizeof(v), 0);
}

SEC("tp/sched/sched_switch")
int rb_bystander(void* ctx) { return 0; }
