// A struct_ops type this kernel does not have (sched_ext_ops needs CONFIG_SCHED_CLASS_EXT): the
// local definition stands in for the one a scheduler's vmlinux.h would carry.
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct bpfprobe_corpus_sched_ops {
  s32 (*select_cpu)(struct task_struct* p, s32 prev_cpu, u64 wake_flags);
  void (*enqueue)(struct task_struct* p, u64 enq_flags);
  char name[128];
};

SEC("struct_ops/absent_select_cpu")
s32 BPF_PROG(absent_select_cpu, struct task_struct* p, s32 prev_cpu, u64 wake_flags) { return prev_cpu; }

SEC("struct_ops/absent_enqueue")
void BPF_PROG(absent_enqueue, struct task_struct* p, u64 enq_flags) {}

SEC(".struct_ops")
struct bpfprobe_corpus_sched_ops absent_ops = {
    .select_cpu = (void*)absent_select_cpu,
    .enqueue = (void*)absent_enqueue,
    .name = "absent",
};
