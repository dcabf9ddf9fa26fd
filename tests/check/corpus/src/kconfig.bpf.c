// Kconfig externs: libbpf fills them from /proc/config.gz or /boot/config-$(uname -r), and
// LINUX_KERNEL_VERSION from uname. Weak ones missing from the config become 0.
#include "corpus.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_BPF_LSM __kconfig;
extern enum libbpf_tristate CONFIG_NET_CLS_BPF __kconfig __weak;
extern bool CONFIG_BPFPROBE_CORPUS_NO_SUCH_OPTION __kconfig __weak;
extern bool CONFIG_KPROBES __kconfig __weak;
extern const char CONFIG_LSM[128] __kconfig __weak;

SEC("raw_tp/sys_enter")
int kc_version(void* ctx) { return LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 10, 0); }

SEC("raw_tp/sys_enter")
int kc_hz(void* ctx) { return CONFIG_HZ; }

SEC("raw_tp/sys_enter")
int kc_bool(void* ctx) { return CONFIG_BPF_LSM ? 1 : 0; }

SEC("raw_tp/sys_enter")
int kc_tristate(void* ctx) { return CONFIG_NET_CLS_BPF == TRI_YES; }

SEC("raw_tp/sys_enter")
int kc_weak_missing(void* ctx) { return CONFIG_BPFPROBE_CORPUS_NO_SUCH_OPTION ? 2 : 1; }

SEC("raw_tp/sys_enter")
int kc_string(void* ctx) { return CONFIG_LSM[0] == 'l'; }

// A branch on a kconfig value: the verifier sees the value libbpf wrote (the .kconfig map is
// frozen), so a call behind an unset CONFIG_KPROBES is dead here.
SEC("socket")
int kc_guarded_helper(struct __sk_buff* skb) {
  if (CONFIG_KPROBES) return bpf_redirect(skb->ifindex, 0);
  return 0;
}
