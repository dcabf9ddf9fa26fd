// Arithmetic whose encoding depends on -mcpu: 32-bit jumps and ALU (v2/v3), and with v4 signed
// division/modulo, sign-extending loads and moves, byte swaps and 32-bit-offset jumps.
#include "corpus.h"

SEC("socket")
int isa_jmp32(struct __sk_buff* skb) {
  __u32 a = skb->len, b = skb->protocol;
  if (a < b) return 1;
  if ((int)a > 100) return 2;
  return 0;
}

// Signed division has an encoding from ISA v4 on; before that clang cannot emit it.
#if defined(__BPF_CPU_VERSION__) && __BPF_CPU_VERSION__ >= 4
SEC("socket")
int isa_signed_div(struct __sk_buff* skb) {
  int a = skb->len - 1000;
  int b = skb->protocol | 1;
  return a / b + a % b;
}
#endif

SEC("socket")
int isa_sext(struct __sk_buff* skb) {
  signed char c = (signed char)skb->len;
  short s = (short)skb->protocol;
  long l = c + s;
  return l < 0;
}

SEC("xdp")
int isa_bswap(struct xdp_md* ctx) {
  __u64 v = ctx->rx_queue_index;
  return (int)(__builtin_bswap64(v) >> 56) == 1 ? XDP_DROP : XDP_PASS;
}

SEC("kprobe/vfs_read")
int isa_sext_load(struct pt_regs* ctx) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&hits, &k);
  if (!v) return 0;
  signed char s = *(signed char*)v;
  return s < 0;
}

SEC("socket")
int isa_mul_wide(struct __sk_buff* skb) {
  __u64 a = skb->len;
  __u32 b = skb->hash;
  return (int)((a * b) >> 33) + (int)(a - b);
}
