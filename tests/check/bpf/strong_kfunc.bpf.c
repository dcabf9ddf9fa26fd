// A strong kfunc extern no kernel has: libbpf resolves every extern of the object when loading, so
// neither program loads, also the one that does not call it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpfprobe_no_such_kfunc(void) __ksym;

SEC("tc")
int strong_kfunc_missing(struct __sk_buff* skb) {
  bpfprobe_no_such_kfunc();
  return 0;
}

SEC("tc")
int innocent_bystander(struct __sk_buff* skb) { return 0; }
