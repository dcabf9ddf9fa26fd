// A perf event array with no max_entries: libbpf sizes it to the number of possible CPUs.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
  __uint(max_entries, 0);
} events SEC(".maps");

SEC("tp/sched/sched_process_exec")
int perf_out(void* ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &pid, sizeof(pid));
}

SEC("kprobe/vfs_read")
int perf_out_kprobe(struct pt_regs* ctx) {
  __u32 pid = 1;
  return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &pid, sizeof(pid));
}
