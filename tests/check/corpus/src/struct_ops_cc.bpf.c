// A TCP congestion control in a struct_ops map, plus one struct_ops program no map refers to.
#include "corpus.h"

SEC("struct_ops/cc_ssthresh")
__u32 BPF_PROG(cc_ssthresh, struct sock* sk) {
  const struct tcp_sock* tp = (void*)sk;
  return tp->snd_cwnd > 4 ? tp->snd_cwnd / 2 : 2;
}

SEC("struct_ops/cc_cong_avoid")
void BPF_PROG(cc_cong_avoid, struct sock* sk, __u32 ack, __u32 acked) {
  struct tcp_sock* tp = (void*)sk;
  if (tp->snd_cwnd < 1000) tp->snd_cwnd += 1;
}

SEC("struct_ops/cc_undo_cwnd")
__u32 BPF_PROG(cc_undo_cwnd, struct sock* sk) { return ((struct tcp_sock*)sk)->snd_cwnd; }

SEC("struct_ops/cc_init")
void BPF_PROG(cc_init, struct sock* sk) {}

// Referenced by no map.
SEC("struct_ops/cc_orphan")
void BPF_PROG(cc_orphan, struct sock* sk) {}

SEC(".struct_ops")
struct tcp_congestion_ops corpus_cc = {
    .init = (void*)cc_init,
    .ssthresh = (void*)cc_ssthresh,
    .cong_avoid = (void*)cc_cong_avoid,
    .undo_cwnd = (void*)cc_undo_cwnd,
    .name = "bpfprobe_corpus",
};
