// A strong untyped ksym (resolved by name in /proc/kallsyms) that no kernel has: libbpf fails the
// whole object with ESRCH ("extern '...' (strong): not resolved").
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern const void bpfprobe_no_such_symbol __ksym;

SEC("socket")
int untyped_ksym(struct __sk_buff* skb) {
  unsigned long addr = (unsigned long)&bpfprobe_no_such_symbol;
  return addr == 1;
}
