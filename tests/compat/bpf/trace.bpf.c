// Function address and attach cookie from a uprobe and a kprobe.
#include <bpfprobe/compat/trace.bpf.h>

#include "results.h"

// Only hits from this thread count (the test sets it).
__u32 trace_tid;
struct trace_result uprobe_result, kprobe_result;

SEC("uprobe")
int trace_uprobe(struct pt_regs* ctx) {
  if ((__u32)bpf_get_current_pid_tgid() != trace_tid) return 0;
  uprobe_result.func_ip = bpfprobe_func_ip_uprobe(ctx);
  uprobe_result.cookie = bpfprobe_attach_cookie_uprobe(ctx);
  uprobe_result.hits++;
  return 0;
}

SEC("kprobe")
int trace_kprobe(struct pt_regs* ctx) {
  if ((__u32)bpf_get_current_pid_tgid() != trace_tid) return 0;
  kprobe_result.func_ip = bpfprobe_func_ip_kprobe(ctx);
  kprobe_result.cookie = bpfprobe_attach_cookie_kprobe(ctx);
  kprobe_result.hits++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
