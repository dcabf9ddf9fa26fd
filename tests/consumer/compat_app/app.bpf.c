// The application of README.md's compat guide, built here against an installed bpfprobe
// (find_package + include(BpfObject)) by the consumer test.
#include <bpfprobe/compat/task.bpf.h>  // or everything: <bpfprobe/compat.bpf.h>

__u32 parent;

SEC("raw_tp/sched_process_exec")
int on_exec(void* ctx) {
  parent = bpfprobe_current_task_read(real_parent, tgid);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
