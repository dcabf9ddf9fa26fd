// A TCP congestion control in a struct_ops map, and one struct_ops program no map refers to:
// libbpf gives that one no attach target and it does not load (static.hpp, struct_ops_refs.hpp).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/bpfprobe_ssthresh")
__u32 BPF_PROG(bpfprobe_ssthresh, struct sock* sk) { return 2; }

SEC("struct_ops/bpfprobe_cong_avoid")
void BPF_PROG(bpfprobe_cong_avoid, struct sock* sk, __u32 ack, __u32 acked) {}

SEC("struct_ops/bpfprobe_undo_cwnd")
__u32 BPF_PROG(bpfprobe_undo_cwnd, struct sock* sk) { return 2; }

SEC("struct_ops/bpfprobe_orphan")
void BPF_PROG(bpfprobe_orphan, struct sock* sk) {}

SEC(".struct_ops")
struct tcp_congestion_ops bpfprobe_cc = {
    .ssthresh = (void*)bpfprobe_ssthresh,
    .cong_avoid = (void*)bpfprobe_cong_avoid,
    .undo_cwnd = (void*)bpfprobe_undo_cwnd,
    .name = "bpfprobe_check",
};
