// Function address and attach cookie from a uprobe and a kprobe.
#include <bpfprobe/compat/trace.bpf.h>

#include "results.h"

// Only hits from this thread count (the test sets it).
__u32 trace_tid;
struct trace_result uprobe_result, kprobe_result;

// Counts a hit of the test's thread with what the accessors answered there.
static __always_inline void record(struct trace_result* r, __u64 func_ip, __u64 cookie) {
  r->func_ip = func_ip;
  r->cookie = cookie;
  r->hits++;
}

static __always_inline bool from_test_thread(void) { return (__u32)bpf_get_current_pid_tgid() == trace_tid; }

SEC("uprobe")
int trace_uprobe(struct pt_regs* ctx) {
  if (from_test_thread()) record(&uprobe_result, bpfprobe_func_ip_uprobe(ctx), bpfprobe_attach_cookie_uprobe(ctx));
  return 0;
}

SEC("kprobe")
int trace_kprobe(struct pt_regs* ctx) {
  if (from_test_thread()) record(&kprobe_result, bpfprobe_func_ip_kprobe(ctx), bpfprobe_attach_cookie_kprobe(ctx));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
