// Programs that need no BTF: no CO-RE, no BTF-defined maps, no kfuncs; only plain helpers and
// global data (.data/.bss/.rodata, which libbpf creates as arrays without BTF too).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u64 packets;
__u64 seen_len = 3;
const volatile __u32 min_len = 60;

SEC("socket")
int nobtf_socket(struct __sk_buff* skb) { return skb->len > min_len ? skb->len : 0; }

SEC("xdp")
int nobtf_xdp(struct xdp_md* ctx) {
  packets++;
  return XDP_PASS;
}

SEC("tc")
int nobtf_tc(struct __sk_buff* skb) {
  seen_len = skb->len;
  return 0;
}

SEC("kprobe/vfs_read")
int nobtf_kprobe(struct pt_regs* ctx) { return ctx->rdi == 0; }

SEC("tracepoint/sched/sched_switch")
int nobtf_tracepoint(void* ctx) {
  char comm[16];
  bpf_get_current_comm(comm, sizeof(comm));
  return comm[0] == 0;
}

SEC("raw_tracepoint/sys_enter")
int nobtf_rawtp(struct bpf_raw_tracepoint_args* ctx) { return ctx->args[1] == 59; }

SEC("cgroup_skb/ingress")
int nobtf_cgskb(struct __sk_buff* skb) { return 1; }

SEC("socket")
int nobtf_redirect(struct __sk_buff* skb) { return bpf_redirect(skb->ifindex, 0); }

SEC("perf_event")
int nobtf_perf(void* ctx) { return 0; }

// A bounded loop (5.3) without BTF.
SEC("socket")
int nobtf_loop(struct __sk_buff* skb) {
  __u32 s = 0;
  for (int i = 0; i < 32; i++) s += skb->len >> (i & 7);
  return s;
}

// A static subprogram (bpf-to-bpf call, 4.16) without BTF: fine; a global one would need BTF.
static __attribute__((noinline)) int nobtf_sub(int x) { return x + 1; }

SEC("socket")
int nobtf_subprog(struct __sk_buff* skb) { return nobtf_sub(skb->len); }

SEC("lwt_in")
int nobtf_lwt(struct __sk_buff* skb) { return BPF_OK; }
