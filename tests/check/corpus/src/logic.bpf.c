// Program logic the verifier rejects: out-of-bounds map values, unchecked map lookups, unbounded
// variable offsets, uninitialised stack, invalid return values, bad context access.
#include "corpus.h"

// The out-of-bounds reads are the point here.
#pragma clang diagnostic ignored "-Warray-bounds"

struct val {
  __u64 a[4];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct val);
} vals SEC(".maps");

SEC("kprobe/vfs_read")
int logic_oob_constant(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  if (!v) return 0;
  return v->a[5];
}

SEC("kprobe/vfs_read")
int logic_unchecked_lookup(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  return v->a[0];
}

SEC("kprobe/vfs_read")
int logic_variable_index(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  if (!v) return 0;
  __u32 i = bpf_get_prandom_u32();
  return v->a[i];
}

SEC("kprobe/vfs_read")
int logic_masked_index(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  if (!v) return 0;
  __u32 i = bpf_get_prandom_u32() & 3;
  return v->a[i];
}

SEC("socket")
int logic_uninit_stack(struct __sk_buff* skb) {
  __u64 x[2];
  if (skb->len > 10) x[0] = 1;
  return bpf_map_update_elem(&vals, &skb->len, x, 0) ? 0 : 1;
}

SEC("kprobe/vfs_read")
int logic_null_helper_arg(void* ctx) { return bpf_map_update_elem(&vals, 0, 0, 0); }

SEC("socket")
int logic_ctx_bad_offset(struct __sk_buff* skb) { return *(__u32*)((char*)skb + 1); }

SEC("xdp")
int logic_bad_xdp_return(struct xdp_md* ctx) { return ctx->ingress_ifindex; }

SEC("kprobe/vfs_read")
int logic_ok_lookup(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  return v ? v->a[3] : 0;
}

SEC("kprobe/vfs_read")
int logic_big_stack(void* ctx) {
  volatile char big[600];
  big[0] = 1;
  return big[0];
}

SEC("kprobe/vfs_read")
int logic_pointer_leak(void* ctx) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  return (long)v;
}

SEC("socket")
int logic_pointer_into_map(struct __sk_buff* skb) {
  __u32 k = 0;
  struct val* v = bpf_map_lookup_elem(&vals, &k);
  if (v) v->a[0] = (__u64)v;
  return 0;
}

SEC("kprobe/vfs_read")
int logic_probe_read_size(void* ctx) {
  char b[8];
  __u32 n = bpf_get_prandom_u32();
  return bpf_probe_read_kernel(b, n, ctx);
}

SEC("kprobe/vfs_read")
int logic_probe_read_size_bounded(void* ctx) {
  char b[8];
  __u32 n = bpf_get_prandom_u32() & 7;
  return bpf_probe_read_kernel(b, n, ctx);
}

SEC("kprobe/vfs_read")
int logic_div_by_reg(void* ctx) {
  __u32 d = bpf_get_prandom_u32();
  return 1000 / d;
}
