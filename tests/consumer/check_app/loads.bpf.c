// A socket filter every kernel with BPF loads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int keep_all(struct __sk_buff* skb) { return skb->len; }
