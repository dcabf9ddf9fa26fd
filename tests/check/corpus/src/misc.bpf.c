// perf_event and syscall programs, and lirc/sk_skb style odd ones.
#include "corpus.h"

SEC("perf_event")
int pe_sample(struct bpf_perf_event_data* ctx) { return ctx->sample_period > 1000; }

SEC("perf_event")
int pe_read_value(struct bpf_perf_event_data* ctx) {
  struct bpf_perf_event_value v;
  return bpf_perf_prog_read_value(ctx, &v, sizeof(v));
}

SEC("perf_event")
int pe_stack(struct bpf_perf_event_data* ctx) {
  __u64 frames[8];
  return bpf_get_stack(ctx, frames, sizeof(frames), BPF_F_USER_STACK) < 0;
}

struct syscall_args {
  int value;
};

SEC("syscall")
int sys_prog(struct syscall_args* ctx) {
  return ctx->value + 1;
}

// A syscall program may call bpf_sys_bpf (5.14).
SEC("syscall")
int sys_bpf_call(void* ctx) {
  union bpf_attr attr = {};
  return bpf_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
}

SEC("syscall")
int sys_copy(void* ctx) {
  char c;
  return bpf_copy_from_user(&c, 1, ctx);
}

SEC("lirc_mode2")
int lirc_prog(unsigned int* sample) { return 0; }

SEC("sk_skb/stream_parser")
int skskb_parser_misc(struct __sk_buff* skb) { return skb->len; }
