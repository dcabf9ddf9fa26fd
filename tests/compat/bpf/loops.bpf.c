// bpfprobe_loop over a callback that sums index * weight and stops at a chosen index.
#include <bpfprobe/compat/loops.bpf.h>

#include "results.h"

struct loop_ctx {
  __u64 sum;
  __u32 stop_at;  // callback returns 1 at this index
};

// Inputs, set by the test before each run.
__u32 loop_n;
__u32 loop_stop_at;
__u32 loop_weight;
struct loop_result loop_result;

static long step(__u64 index, void* ctx) {
  struct loop_ctx* c = ctx;
  c->sum += index * loop_weight;
  return index == c->stop_at ? 1 : 0;
}

SEC("raw_tp")
int loop_run(void* ctx) {
  struct loop_ctx c = {.sum = 0, .stop_at = loop_stop_at};
  loop_result.calls = bpfprobe_loop(loop_n, step, &c);
  loop_result.sum = c.sum;
  loop_result.ran = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
