// tracepoint/tp, raw_tp/raw_tracepoint (and the writable variant) and tp_btf, with targets that
// exist and ones that do not: only tp_btf resolves its target at load time.
#include "corpus.h"

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter* ctx) { return ctx->args[0] == 0; }

SEC("tp/sched/sched_switch")
int tp_sched_switch(struct trace_event_raw_sched_switch* ctx) {
  count();
  return ctx->prev_pid == 0;
}

SEC("tracepoint/bpfprobe_corpus/no_such_event")
int tp_missing(void* ctx) { return 0; }

SEC("tp/sched/sched_process_exec")
int tp_exec_stackid(void* ctx) {
  // bpf_get_current_comm and bpf_get_current_pid_tgid: any tracing type.
  char comm[16];
  bpf_get_current_comm(comm, sizeof(comm));
  return (bpf_get_current_pid_tgid() >> 32) == 1;
}

// A tracepoint may not look past its context record with a constant offset that large.
SEC("tp/sched/sched_switch")
int tp_ctx_out_of_range(void* ctx) { return *(volatile __u64*)((char*)ctx + 4096); }

SEC("raw_tp/sched_switch")
int BPF_PROG(rawtp_sched_switch, bool preempt, struct task_struct* prev, struct task_struct* next) {
  return BPF_CORE_READ(next, pid) == 0;
}

SEC("raw_tracepoint/sys_enter")
int rawtp_sys_enter(struct bpf_raw_tracepoint_args* ctx) { return ctx->args[1] == 0; }

SEC("raw_tp/bpfprobe_corpus_no_such_tp")
int rawtp_missing(void* ctx) { return 0; }

// A raw tracepoint's context has as many arguments as the tracepoint; loading does not know it, and
// reading far beyond any tracepoint's arguments is out of range.
SEC("raw_tp/sys_enter")
int rawtp_ctx_too_far(struct bpf_raw_tracepoint_args* ctx) { return ctx->args[20] == 0; }

SEC("raw_tp.w/bpfprobe_corpus_writable")
int rawtpw_plain(struct bpf_raw_tracepoint_args* ctx) { return 0; }

SEC("tp_btf/sched_switch")
int BPF_PROG(tpbtf_sched_switch, bool preempt, struct task_struct* prev, struct task_struct* next) {
  return next->pid == prev->pid;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tpbtf_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  count();
  return 0;
}

SEC("tp_btf/bpfprobe_corpus_no_such_tp")
int tpbtf_missing(void* ctx) { return 0; }

// tp_btf programs may write nothing through their BTF pointers.
SEC("tp_btf/sched_switch")
int BPF_PROG(tpbtf_write, bool preempt, struct task_struct* prev) {
  prev->pid = 0;
  return 0;
}

// Helpers of tracing programs: bpf_get_current_task_btf (5.11), bpf_task_storage_get needs a map.
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tpbtf_fork, struct task_struct* parent, struct task_struct* child) {
  struct task_struct* me = bpf_get_current_task_btf();
  return me->tgid == child->tgid;
}

SEC("tracepoint/sched/sched_process_exit")
int tp_exit_send_signal(void* ctx) { return bpf_send_signal(0) != 0; }

// bpf_get_func_ip is for kprobes and trampolines; a tracepoint program gets ENOTSUPP.
SEC("tp/sched/sched_process_exit")
int tp_func_ip(void* ctx) { return bpf_get_func_ip(ctx) == 0; }
