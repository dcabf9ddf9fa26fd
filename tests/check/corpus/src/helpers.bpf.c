// Helpers against program types: each program calls one helper from one program type. Which pairs
// the kernel allows is its func_proto table per program type (and sometimes attach type).
#include "corpus.h"

// One program: section S, context type C, name N, body calling the helper on context `c`.
#define PROG(S, C, N, EXPR) \
  SEC(S)                    \
  int N(C c) { return (int)(EXPR); }

#define SOCK struct __sk_buff*
#define XDP struct xdp_md*
#define REGS struct pt_regs*
#define ANY void*
#define ADDR struct bpf_sock_addr*

static char buf[16];

// bpf_ktime_get_ns: every program type.
PROG("socket", SOCK, ktime_socket, bpf_ktime_get_ns())
PROG("xdp", XDP, ktime_xdp, bpf_ktime_get_ns())
PROG("kprobe/vfs_read", REGS, ktime_kprobe, bpf_ktime_get_ns())
PROG("cgroup/connect4", ADDR, ktime_connect4, bpf_ktime_get_ns() & 1)

// bpf_get_current_pid_tgid: tracing types and cgroup hooks; not socket filters, XDP or tc.
PROG("socket", SOCK, pidtgid_socket, bpf_get_current_pid_tgid())
PROG("xdp", XDP, pidtgid_xdp, bpf_get_current_pid_tgid())
PROG("tc", SOCK, pidtgid_tc, bpf_get_current_pid_tgid())
PROG("kprobe/vfs_read", REGS, pidtgid_kprobe, bpf_get_current_pid_tgid())
PROG("cgroup/connect4", ADDR, pidtgid_connect4, bpf_get_current_pid_tgid() & 1)
PROG("cgroup_skb/egress", SOCK, pidtgid_cgskb, bpf_get_current_pid_tgid() & 1)

// bpf_probe_read_kernel (5.5): tracing types only.
PROG("kprobe/vfs_read", REGS, prk_kprobe, bpf_probe_read_kernel(buf, 8, (void*)PT_REGS_PARM1(c)))
PROG("tp/sched/sched_switch", ANY, prk_tp, bpf_probe_read_kernel(buf, 8, c))
PROG("socket", SOCK, prk_socket, bpf_probe_read_kernel(buf, 8, (void*)(long)c->len))
PROG("xdp", XDP, prk_xdp, bpf_probe_read_kernel(buf, 8, (void*)(long)c->data))
PROG("tc", SOCK, prk_tc, bpf_probe_read_kernel(buf, 8, (void*)(long)c->len))
PROG("perf_event", ANY, prk_perf, bpf_probe_read_kernel(buf, 8, c))

// bpf_redirect: tc, xdp, lwt_xmit; not socket filters or tracing.
PROG("tc", SOCK, redirect_tc, bpf_redirect(c->ifindex, 0))
PROG("xdp", XDP, redirect_xdp, bpf_redirect(c->ingress_ifindex, 0))
PROG("socket", SOCK, redirect_socket, bpf_redirect(c->ifindex, 0))
PROG("kprobe/vfs_read", REGS, redirect_kprobe, bpf_redirect(1, 0))
PROG("lwt_xmit", SOCK, redirect_lwt_xmit, bpf_redirect(c->ifindex, 0))
PROG("lwt_in", SOCK, redirect_lwt_in, bpf_redirect(c->ifindex, 0))

// bpf_get_current_task: tracing types.
PROG("kprobe/vfs_read", REGS, curtask_kprobe, bpf_get_current_task() != 0)
PROG("raw_tp/sys_enter", ANY, curtask_rawtp, bpf_get_current_task() != 0)
PROG("socket", SOCK, curtask_socket, bpf_get_current_task() != 0)
PROG("cgroup_skb/ingress", SOCK, curtask_cgskb, bpf_get_current_task() != 0)

// bpf_skb_load_bytes: skb programs.
PROG("socket", SOCK, loadbytes_socket, bpf_skb_load_bytes(c, 0, buf, 4))
PROG("tc", SOCK, loadbytes_tc, bpf_skb_load_bytes(c, 0, buf, 4))
PROG("cgroup_skb/ingress", SOCK, loadbytes_cgskb, bpf_skb_load_bytes(c, 0, buf, 4))
PROG("lwt_in", SOCK, loadbytes_lwt, bpf_skb_load_bytes(c, 0, buf, 4))
PROG("sk_skb/stream_verdict", SOCK, loadbytes_skskb, bpf_skb_load_bytes(c, 0, buf, 4))
PROG("flow_dissector", SOCK, loadbytes_flow, bpf_skb_load_bytes(c, 0, buf, 4))

// bpf_get_socket_cookie: socket filters, tc, cgroup hooks, sockops; not tracing.
PROG("socket", SOCK, cookie_socket, bpf_get_socket_cookie(c))
PROG("tc", SOCK, cookie_tc, bpf_get_socket_cookie(c))
PROG("cgroup/connect4", ADDR, cookie_connect4, bpf_get_socket_cookie(c) & 1)
PROG("kprobe/vfs_read", REGS, cookie_kprobe, bpf_get_socket_cookie(c))

// bpf_send_signal (5.3): tracing.
PROG("kprobe/vfs_read", REGS, signal_kprobe, bpf_send_signal(0))
PROG("tp/sched/sched_switch", ANY, signal_tp, bpf_send_signal(0))
PROG("xdp", XDP, signal_xdp, bpf_send_signal(0))

// bpf_get_current_cgroup_id: tracing and cgroup hooks; not XDP.
PROG("kprobe/vfs_read", REGS, cgid_kprobe, bpf_get_current_cgroup_id())
PROG("cgroup/connect4", ADDR, cgid_connect4, bpf_get_current_cgroup_id() & 1)
PROG("xdp", XDP, cgid_xdp, bpf_get_current_cgroup_id())
PROG("sk_msg", struct sk_msg_md*, cgid_skmsg, bpf_get_current_cgroup_id())

// bpf_csum_diff: skb and xdp programs.
PROG("tc", SOCK, csum_tc, bpf_csum_diff(0, 0, 0, 0, 0))
PROG("xdp", XDP, csum_xdp, bpf_csum_diff(0, 0, 0, 0, 0))
PROG("kprobe/vfs_read", REGS, csum_kprobe, bpf_csum_diff(0, 0, 0, 0, 0))

// bpf_xdp_adjust_head: XDP only.
PROG("xdp", XDP, adjhead_xdp, bpf_xdp_adjust_head(c, 0))
PROG("tc", SOCK, adjhead_tc, bpf_xdp_adjust_head((void*)c, 0))

// bpf_skb_change_head: tc, sk_skb; not socket filters.
PROG("tc", SOCK, changehead_tc, bpf_skb_change_head(c, 14, 0))
PROG("sk_skb/stream_verdict", SOCK, changehead_skskb, bpf_skb_change_head(c, 14, 0))
PROG("socket", SOCK, changehead_socket, bpf_skb_change_head(c, 14, 0))

// bpf_get_prandom_u32 and bpf_get_smp_processor_id: everywhere.
PROG("socket", SOCK, prandom_socket, bpf_get_prandom_u32())
PROG("sk_lookup", struct bpf_sk_lookup*, prandom_sklookup, (bpf_get_prandom_u32() & 1))
PROG("cgroup/sysctl", struct bpf_sysctl*, smp_sysctl, bpf_get_smp_processor_id() & 1)

// bpf_ktime_get_boot_ns (5.8) and bpf_ktime_get_coarse_ns (5.11).
PROG("kprobe/vfs_read", REGS, bootns_kprobe, bpf_ktime_get_boot_ns())
PROG("xdp", XDP, coarse_xdp, bpf_ktime_get_coarse_ns())

// bpf_get_ns_current_pid_tgid (5.7): tracing.
PROG("kprobe/vfs_read", REGS, nspid_kprobe, bpf_get_ns_current_pid_tgid(0, 0, (void*)buf, 8))

// bpf_sk_lookup_tcp: networking types; its socket must be released.
SEC("tc")
int sklookup_tc(struct __sk_buff* skb) {
  struct bpf_sock_tuple t = {};
  struct bpf_sock* sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (sk) bpf_sk_release(sk);
  return 0;
}

SEC("tc")
int sklookup_tc_leak(struct __sk_buff* skb) {
  struct bpf_sock_tuple t = {};
  struct bpf_sock* sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
  return sk != 0;
}

SEC("kprobe/vfs_read")
int sklookup_kprobe(struct pt_regs* ctx) {
  struct bpf_sock_tuple t = {};
  struct bpf_sock* sk = bpf_sk_lookup_tcp((void*)ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
  if (sk) bpf_sk_release(sk);
  return 0;
}

// bpf_trace_printk is a base helper for privileged loaders, in XDP and socket filters too.
PROG("xdp", XDP, printk_xdp, bpf_printk("xdp"))
PROG("socket", SOCK, printk_socket, bpf_printk("socket"))

// bpf_snprintf (5.13) and bpf_strncmp (5.17).
SEC("kprobe/vfs_read")
int snprintf_kprobe(struct pt_regs* ctx) {
  __u64 args[1] = {1};
  return bpf_snprintf(buf, sizeof(buf), "%d", args, sizeof(args));
}

SEC("socket")
int strncmp_socket(struct __sk_buff* skb) { return bpf_strncmp(buf, 4, "abc"); }

// bpf_for_each_map_elem (5.13) and bpf_timer (5.15) in a socket filter.
static long each_cb(void* map, __u32* k, __u64* v, void* ctx) { return 0; }

SEC("socket")
int foreach_socket(struct __sk_buff* skb) { return bpf_for_each_map_elem(&hits, each_cb, 0, 0); }
