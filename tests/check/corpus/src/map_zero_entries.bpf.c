// A hash map whose size the application sets before loading (max_entries 0 as shipped); a perf
// event array with 0 is sized by libbpf to the number of CPUs, so it alone would be fine.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 0);
  __type(key, __u32);
  __type(value, __u64);
} sized_later SEC(".maps");

SEC("kprobe/vfs_read")
int zero_user(void* ctx) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&sized_later, &k) != 0;
}

SEC("kprobe/vfs_write")
int zero_bystander(void* ctx) { return 0; }
