// Atomic instructions beyond BPF_XADD, one program per kernel feature, written as raw bytes so the
// encoding does not depend on the clang version (-mcpu=v3 atomics, v5 load-acquire).
// Each is BPF_STX|BPF_ATOMIC on the stack slot r10-8: code 0xdb (DW) or 0xc3 (W), the operation in imm.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ON_STACK(insn) asm volatile("r1 = 1; *(u64 *)(r10 - 8) = r1; r0 = 0; .8byte " insn ::: "r0", "r1", "memory")

SEC("socket")
int atomic_add(struct __sk_buff* skb) {  // imm 0x00: BPF_ADD (BPF_XADD), every kernel
  ON_STACK("0x00000000fff81adb");
  return 0;
}

SEC("socket")
int atomic_fetch_add(struct __sk_buff* skb) {  // imm 0x01: BPF_ADD | BPF_FETCH (5.12)
  ON_STACK("0x00000001fff81adb");
  return 0;
}

SEC("socket")
int atomic_cmpxchg(struct __sk_buff* skb) {  // imm 0xf1: BPF_CMPXCHG, compares with r0 (5.12)
  ON_STACK("0x000000f1fff81adb");
  return 0;
}

SEC("socket")
int atomic_xchg32(struct __sk_buff* skb) {  // imm 0xe1: BPF_XCHG, 32-bit (5.12)
  ON_STACK("0x000000e1fff81ac3");
  return 0;
}

SEC("socket")
int atomic_or32(struct __sk_buff* skb) {  // imm 0x40: BPF_OR without fetch, 32-bit (5.12)
  ON_STACK("0x00000040fff81ac3");
  return 0;
}

SEC("socket")
int atomic_fetch_xor(struct __sk_buff* skb) {  // imm 0xa1: BPF_XOR | BPF_FETCH (5.12)
  ON_STACK("0x000000a1fff81adb");
  return 0;
}

SEC("socket")
int store_release(struct __sk_buff* skb) {  // imm 0x110: BPF_STORE_REL, 32-bit (6.15)
  ON_STACK("0x00000110fff81ac3");
  return 0;
}

SEC("socket")
int load_acquire(struct __sk_buff* skb) {  // imm 0x100: BPF_LOAD_ACQ into r0 from r10-8 (6.15)
  ON_STACK("0x00000100fff8a0db");
  return 0;
}
