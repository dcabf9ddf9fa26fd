// Network program types: XDP, TC/TCX/netkit, cgroup hooks, socket maps' programs, sk_lookup, flow
// dissector, socket filters, lightweight tunnels, netfilter, reuseport.
#include "corpus.h"

#define ETH_P_IP 0x0800
// uapi values that are macros (NF_*) or absent from BTF when CONFIG_NETKIT is off (NETKIT_*).
#define NF_DROP 0
#define NF_ACCEPT 1
#define CORPUS_NETKIT_NEXT (-1)
#define CORPUS_NETKIT_PASS 0

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct bpf_devmap_val);
} devs SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > end) return XDP_DROP;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_PASS;
}

// Reads the Ethernet header without checking data_end: the verifier refuses the packet access.
SEC("xdp")
int xdp_unchecked_packet(struct xdp_md* ctx) {
  struct ethhdr* eth = (void*)(long)ctx->data;
  return eth->h_proto ? XDP_PASS : XDP_DROP;
}

SEC("xdp.frags")
int xdp_frags_len(struct xdp_md* ctx) { return bpf_xdp_get_buff_len(ctx) > 0 ? XDP_PASS : XDP_DROP; }

SEC("xdp/devmap")
int xdp_devmap_prog(struct xdp_md* ctx) { return XDP_PASS; }

SEC("xdp/cpumap")
int xdp_cpumap_prog(struct xdp_md* ctx) { return XDP_PASS; }

SEC("xdp")
int xdp_redirect_map(struct xdp_md* ctx) { return bpf_redirect_map(&devs, 0, XDP_PASS); }

SEC("tc")
int tc_mark(struct __sk_buff* skb) {
  skb->mark = 7;
  return 0;
}

SEC("classifier")
int tc_classifier_legacy(struct __sk_buff* skb) { return skb->len > 100; }

SEC("action")
int tc_action(struct __sk_buff* skb) { return 0; }

SEC("tcx/ingress")
int tcx_in(struct __sk_buff* skb) { return TCX_NEXT; }

SEC("tcx/egress")
int tcx_out(struct __sk_buff* skb) { return TCX_PASS; }

SEC("tc/ingress")
int tc_ingress_alias(struct __sk_buff* skb) { return TCX_NEXT; }

SEC("netkit/primary")
int netkit_primary(struct __sk_buff* skb) { return CORPUS_NETKIT_NEXT; }

SEC("netkit/peer")
int netkit_peer(struct __sk_buff* skb) { return CORPUS_NETKIT_PASS; }

SEC("cgroup_skb/ingress")
int cgskb_in(struct __sk_buff* skb) { return 1; }

SEC("cgroup_skb/egress")
int cgskb_out(struct __sk_buff* skb) { return skb->len < 65536; }

// A cgroup_skb program may not write tc_classid.
SEC("cgroup_skb/egress")
int cgskb_write_classid(struct __sk_buff* skb) {
  skb->tc_classid = 1;
  return 1;
}

SEC("cgroup/skb")
int cgskb_generic(struct __sk_buff* skb) { return 1; }

SEC("cgroup/sock")
int cgsock(struct bpf_sock* sk) { return sk->family != 0; }

SEC("cgroup/sock_create")
int cgsock_create(struct bpf_sock* sk) { return 1; }

SEC("cgroup/sock_release")
int cgsock_release(struct bpf_sock* sk) { return 1; }

SEC("cgroup/post_bind4")
int cg_post_bind4(struct bpf_sock* sk) { return sk->src_port != 1; }

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup/connect_unix")
int cg_connect_unix(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup/bind4")
int cg_bind4(struct bpf_sock_addr* ctx) { return ctx->user_port != 0 ? 1 : 1; }

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup/recvmsg6")
int cg_recvmsg6(struct bpf_sock_addr* ctx) { return 1; }

SEC("cgroup/getpeername4")
int cg_getpeername4(struct bpf_sock_addr* ctx) { return 1; }

// connect4 must return 0 or 1.
SEC("cgroup/connect4")
int cg_connect4_bad_return(struct bpf_sock_addr* ctx) { return 5; }

SEC("cgroup/sysctl")
int cg_sysctl(struct bpf_sysctl* ctx) { return 1; }

SEC("cgroup/getsockopt")
int cg_getsockopt(struct bpf_sockopt* ctx) { return 1; }

SEC("cgroup/setsockopt")
int cg_setsockopt(struct bpf_sockopt* ctx) { return 1; }

SEC("cgroup/dev")
int cg_dev(struct bpf_cgroup_dev_ctx* ctx) { return 1; }

SEC("sockops")
int sockops_cb(struct bpf_sock_ops* ops) {
  if (ops->op == BPF_SOCK_OPS_TCP_CONNECT_CB) bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_STATE_CB_FLAG);
  return 1;
}

SEC("sk_skb/stream_parser")
int skskb_parser(struct __sk_buff* skb) { return skb->len; }

SEC("sk_skb/stream_verdict")
int skskb_verdict(struct __sk_buff* skb) { return bpf_sk_redirect_map(skb, &socks, 0, 0); }

SEC("sk_skb/verdict")
int skskb_verdict_v2(struct __sk_buff* skb) { return SK_PASS; }

SEC("sk_skb")
int skskb_plain(struct __sk_buff* skb) { return SK_PASS; }

SEC("sk_msg")
int skmsg_verdict(struct sk_msg_md* msg) { return bpf_msg_redirect_map(msg, &socks, 0, 0); }

SEC("sk_lookup")
int sklookup_pass(struct bpf_sk_lookup* ctx) { return ctx->local_port == 1 ? SK_DROP : SK_PASS; }

SEC("flow_dissector")
int flow_dissect(struct __sk_buff* skb) {
  struct bpf_flow_keys* keys = skb->flow_keys;
  if (!keys) return BPF_DROP;
  keys->n_proto = bpf_htons(ETH_P_IP);
  return BPF_OK;
}

SEC("socket")
int socket_filter(struct __sk_buff* skb) { return skb->len; }

// A socket filter may not write the packet's mark.
SEC("socket")
int socket_write_mark(struct __sk_buff* skb) {
  skb->mark = 1;
  return 0;
}

SEC("lwt_in")
int lwt_in_prog(struct __sk_buff* skb) { return BPF_OK; }

SEC("lwt_out")
int lwt_out_prog(struct __sk_buff* skb) { return BPF_OK; }

SEC("lwt_xmit")
int lwt_xmit_prog(struct __sk_buff* skb) { return BPF_OK; }

SEC("lwt_seg6local")
int lwt_seg6_prog(struct __sk_buff* skb) { return BPF_OK; }

// lwt_in may not rewrite the packet (bpf_skb_store_bytes is for lwt_xmit and tc).
SEC("lwt_in")
int lwt_in_store_bytes(struct __sk_buff* skb) {
  __u8 b = 0;
  return bpf_skb_store_bytes(skb, 0, &b, 1, 0);
}

SEC("netfilter")
int nf_accept(struct bpf_nf_ctx* ctx) { return NF_ACCEPT; }

// A netfilter program may only return NF_ACCEPT or NF_DROP.
SEC("netfilter")
int nf_bad_verdict(struct bpf_nf_ctx* ctx) { return 3; }

SEC("sk_reuseport")
int reuseport_select(struct sk_reuseport_md* md) { return SK_PASS; }

SEC("sk_reuseport/migrate")
int reuseport_migrate(struct sk_reuseport_md* md) { return SK_PASS; }

SEC("cgroup/sock_ops")
int cgsockops_alias(struct bpf_sock_ops* ops) { return 1; }
