// A sleepable iterator (iter.s): the verifier asks only for the sleepable flag (5.10), not for a
// target on its sleepable allow-list as for fentry/fexit/fmod_ret.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter.s/task")
int sleepable_iter(struct bpf_iter__task* ctx) { return ctx->task ? 1 : 0; }
