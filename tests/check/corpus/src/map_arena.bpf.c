// A BPF arena (6.9) and the kfuncs that allocate its pages.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARENA);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 4);
} arena SEC(".maps");

extern void* bpf_arena_alloc_pages(void* map, void* addr, __u32 page_cnt, int node_id, __u64 flags) __ksym;
extern void bpf_arena_free_pages(void* map, void* ptr, __u32 page_cnt) __ksym;

SEC("syscall")
int arena_alloc(void* ctx) {
  void* p = bpf_arena_alloc_pages(&arena, 0, 1, -1, 0);
  if (!p) return 1;
  bpf_arena_free_pages(&arena, p, 1);
  return 0;
}

SEC("socket")
int arena_in_socket(struct __sk_buff* skb) {
  return bpf_arena_alloc_pages(&arena, 0, 1, -1, 0) != 0;
}
