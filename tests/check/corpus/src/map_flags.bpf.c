// Map flags: an mmapable array (5.5), a read-only-from-program array (5.2), and a hash with
// BPF_F_ZERO_SEED (5.0).
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __uint(map_flags, BPF_F_MMAPABLE);
  __type(key, __u32);
  __type(value, __u64);
} mmapable SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __uint(map_flags, BPF_F_RDONLY_PROG);
  __type(key, __u32);
  __type(value, __u64);
} rdonly SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __uint(map_flags, BPF_F_ZERO_SEED);
  __type(key, __u32);
  __type(value, __u64);
} zero_seed SEC(".maps");

SEC("kprobe/vfs_read")
int use_mmapable(void* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&mmapable, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

SEC("kprobe/vfs_read")
int read_rdonly(void* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&rdonly, &k);
  return v ? (int)*v : 0;
}

// Writing a map the program may only read is refused.
SEC("kprobe/vfs_read")
int write_rdonly(void* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&rdonly, &k);
  if (v) *v = 1;
  return 0;
}

SEC("kprobe/vfs_read")
int use_zero_seed(void* ctx) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&zero_seed, &k) != 0;
}
