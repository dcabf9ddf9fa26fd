// Section names libbpf 1.4 does not know (newer libbpf sections, other loaders' conventions,
// typos), next to known ones: only the unknown programs fail.
#include "corpus.h"

SEC("kprobe.session/vfs_read")
int sess_kprobe(void* ctx) { return 0; }

SEC("uprobe.session//bin/bash:readline")
int sess_uprobe(void* ctx) { return 0; }

SEC("bpfprobe_corpus_custom")
int custom_section(void* ctx) { return 0; }

SEC("sk_skb/stream_parserr")
int typo_section(struct __sk_buff* skb) { return 0; }

SEC("xdp_devmap/prog")
int old_devmap_section(struct xdp_md* ctx) { return XDP_PASS; }

SEC("tracepoint")
int tracepoint_no_target(void* ctx) { return 0; }

SEC("kprobe")
int kprobe_no_target(void* ctx) { return 0; }

SEC("raw_tp")
int rawtp_no_target(void* ctx) { return 0; }

SEC("tp_btf")
int tpbtf_no_target(void* ctx) { return 0; }

SEC("iter")
int iter_no_target(void* ctx) { return 0; }

SEC("lsm")
int lsm_no_target(void* ctx) { return 0; }

SEC("socket")
int known_neighbour(struct __sk_buff* skb) { return 0; }

SEC("sched_ext/noop")
int sched_ext_section(void* ctx) { return 0; }
