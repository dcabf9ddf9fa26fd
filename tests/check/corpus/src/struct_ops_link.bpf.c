// A struct_ops map in .struct_ops.link (attached through a link, 6.4) whose cwnd_event writes a
// socket field a congestion control may not write. libbpf loads every program the map refers to,
// so the other three fail with it.
#include "corpus.h"

SEC("struct_ops/lk_ssthresh")
__u32 BPF_PROG(lk_ssthresh, struct sock* sk) { return 2; }

SEC("struct_ops/lk_cong_avoid")
void BPF_PROG(lk_cong_avoid, struct sock* sk, __u32 ack, __u32 acked) {
  // snd_cwnd is one of the few tcp_sock fields a congestion control may write.
  ((struct tcp_sock*)sk)->snd_cwnd = 10;
}

SEC("struct_ops/lk_undo_cwnd")
__u32 BPF_PROG(lk_undo_cwnd, struct sock* sk) { return 10; }

// Writing a field outside the allowed set is refused by the verifier.
SEC("struct_ops/lk_cwnd_event")
void BPF_PROG(lk_cwnd_event, struct sock* sk, enum tcp_ca_event ev) { sk->sk_mark = 1; }

SEC(".struct_ops.link")
struct tcp_congestion_ops corpus_cc_link = {
    .ssthresh = (void*)lk_ssthresh,
    .cong_avoid = (void*)lk_cong_avoid,
    .undo_cwnd = (void*)lk_undo_cwnd,
    .cwnd_event = (void*)lk_cwnd_event,
    .name = "corpus_lk",
};
