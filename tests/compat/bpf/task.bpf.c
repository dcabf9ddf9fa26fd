// The current task's fields, kernel reads and boot time, each through its compat accessor.
#include <bpfprobe/compat/read.bpf.h>
#include <bpfprobe/compat/task.bpf.h>
#include <bpfprobe/compat/time.bpf.h>

#include "results.h"

struct task_result task_result;

SEC("raw_tp")
int task_fields(void* ctx) {
  struct task_struct* t = (struct task_struct*)bpf_get_current_task();
  task_result.pid = bpfprobe_current_task_read(pid);
  task_result.tgid = bpfprobe_current_task_read(tgid);
  task_result.parent_tgid = bpfprobe_current_task_read(real_parent, tgid);
  task_result.read_err = bpfprobe_core_read(&task_result.read_pid, sizeof(task_result.read_pid), &t->pid);
  task_result.boot_ns = bpfprobe_ktime_get_boot_ns();
  task_result.ran = 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
