// A socket filter no kernel loads: bpf_redirect is offered to tc and XDP programs only.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int redirect_all(struct __sk_buff* skb) {
  __u32 ifindex = skb->ifindex;
  return bpf_redirect(ifindex, 0);  // not loadable: this call
}
