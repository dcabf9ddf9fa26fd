// The application of README.md's compat guide, built and loaded by readme_test.cpp so the guide
// stays true.
#include <bpfprobe/compat/task.bpf.h>  // or everything: <bpfprobe/compat.bpf.h>

__u32 parent;

SEC("raw_tp/sched_process_exec")
int on_exec(void* ctx) {
  parent = bpfprobe_current_task_read(real_parent, tgid);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
