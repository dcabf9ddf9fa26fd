// One record through bpfprobe_output.
#include <bpfprobe/compat/output.bpf.h>

#include "results.h"

BPFPROBE_OUTPUT_MAP(events, 64 * 1024);

__u32 output_seq;
__s64 output_err;

SEC("raw_tp")
int output_emit(void* ctx) {
  struct output_record r = {.magic = OUTPUT_MAGIC, .tgid = bpf_get_current_pid_tgid() >> 32, .seq = output_seq};
  output_err = bpfprobe_output(ctx, events, &r, sizeof(r));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
