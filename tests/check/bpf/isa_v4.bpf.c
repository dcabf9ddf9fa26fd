// A sign-extending move (ISA v4, 6.6), written as raw bytes: clang 14 has no -mcpu=v4.
// 0xbf = BPF_ALU64|BPF_MOV|BPF_X, dst r0, src r1, off 8: r0 = (s8)r1.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int movsx(struct __sk_buff* skb) {
  asm volatile("r1 = 200; .8byte 0x00000000000810bf; r0 = 0" ::: "r0", "r1");
  return 0;
}
