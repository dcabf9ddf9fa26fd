// Branches on .kconfig values: libbpf writes them into the frozen .kconfig map before loading, so
// the verifier skips the branch an option's value makes dead. bpf_redirect is not for socket
// filters: the program with the live call fails, the one with the dead call loads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern bool CONFIG_BPFPROBE_NO_SUCH_OPTION __kconfig __weak;  // unset: 0
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;              // y wherever BPF programs load

SEC("socket")
int dead_by_kconfig(struct __sk_buff* skb) {
  if (CONFIG_BPFPROBE_NO_SUCH_OPTION) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

SEC("socket")
int live_by_kconfig(struct __sk_buff* skb) {
  if (CONFIG_BPF_SYSCALL) return bpf_redirect(skb->ifindex, 0);
  return 0;
}
