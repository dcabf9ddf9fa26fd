// Atomic instructions: add without a used result (BPF_XADD, any kernel), and the 5.12 atomics that
// clang emits with -mcpu=v3 for a used result, xchg, cmpxchg and and/or/xor.
#include "corpus.h"

__u64 g_counter;
__u32 g_counter32;

static __always_inline __u64* slot(void) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&hits, &k);
}

SEC("kprobe/vfs_read")
int at_add_unused(void* ctx) {
  __u64* v = slot();
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

SEC("kprobe/vfs_read")
int at_add_global_unused(void* ctx) {
  __sync_fetch_and_add(&g_counter, 2);
  return 0;
}

#if defined(CORPUS_ATOMICS_V3)
SEC("kprobe/vfs_read")
int at_fetch_add_used(void* ctx) {
  __u64* v = slot();
  return v ? (int)__sync_fetch_and_add(v, 1) : 0;
}

SEC("kprobe/vfs_read")
int at_xchg(void* ctx) {
  __u64* v = slot();
  return v ? (int)__sync_lock_test_and_set(v, 5) : 0;
}

SEC("kprobe/vfs_read")
int at_cmpxchg(void* ctx) {
  __u64* v = slot();
  return v ? (int)__sync_val_compare_and_swap(v, 0, 1) : 0;
}

SEC("kprobe/vfs_read")
int at_and_or_xor(void* ctx) {
  __u64* v = slot();
  if (!v) return 0;
  __sync_fetch_and_and(v, 0xff);
  __sync_fetch_and_or(v, 0x100);
  __sync_fetch_and_xor(v, 0x3);
  return 0;
}

SEC("kprobe/vfs_read")
int at_fetch_or_used(void* ctx) { return (int)__sync_fetch_and_or(&g_counter, 4); }

SEC("kprobe/vfs_read")
int at_32bit_cmpxchg(void* ctx) { return __sync_val_compare_and_swap(&g_counter32, 1, 2); }

SEC("socket")
int at_xchg_socket(struct __sk_buff* skb) { return (int)__atomic_exchange_n(&g_counter, 9, __ATOMIC_SEQ_CST); }

// An atomic on the stack of a program: allowed; on a context field: refused.
SEC("socket")
int at_on_ctx(struct __sk_buff* skb) {
  __sync_fetch_and_add(&skb->mark, 1);
  return 0;
}
#endif

// A plain add on a packet pointer is refused (atomics only on stack, map values, globals).
SEC("xdp")
int at_on_packet(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  if (data + 8 > (void*)(long)ctx->data_end) return XDP_PASS;
  __sync_fetch_and_add((__u64*)data, 1);
  return XDP_PASS;
}
