// BPF LSM (lsm, lsm.s, lsm_cgroup) and iterators (iter, iter.s).
#include "corpus.h"

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file* f) { return 0; }

SEC("lsm/bprm_check_security")
int BPF_PROG(lsm_bprm, struct linux_binprm* bprm, int ret) { return ret; }

SEC("lsm.s/file_open")
int BPF_PROG(lsms_file_open, struct file* f) {
  char buf[32];
  bpf_d_path(&f->f_path, buf, sizeof(buf));
  return 0;
}

SEC("lsm/socket_connect")
int BPF_PROG(lsm_socket_connect, struct socket* sock, struct sockaddr* addr, int len) { return 0; }

SEC("lsm/bpfprobe_corpus_no_such_hook")
int lsm_missing(void* ctx) { return 0; }

// An LSM program must return an errno-style value: a constant 1 is outside the allowed range.
SEC("lsm/file_open")
int BPF_PROG(lsm_bad_return, struct file* f) { return 1; }

SEC("lsm_cgroup/socket_bind")
int BPF_PROG(lsmcg_socket_bind, struct socket* sock, struct sockaddr* addr, int len) { return 1; }

// Tasks, maps and files through iterators.
SEC("iter/task")
int iter_task(struct bpf_iter__task* ctx) {
  struct task_struct* t = ctx->task;
  if (!t) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", t->pid);
  return 0;
}

SEC("iter/bpf_map")
int iter_maps(struct bpf_iter__bpf_map* ctx) {
  struct bpf_map* m = ctx->map;
  if (!m) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%u\n", m->id);
  return 0;
}

SEC("iter/task_file")
int iter_task_file(struct bpf_iter__task_file* ctx) {
  if (!ctx->file) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", ctx->fd);
  return 0;
}

SEC("iter/tcp")
int iter_tcp(struct bpf_iter__tcp* ctx) {
  if (!ctx->sk_common) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", ctx->uid);
  return 0;
}

SEC("iter.s/task")
int iters_task(struct bpf_iter__task* ctx) {
  struct task_struct* t = ctx->task;
  char c;
  if (!t) return 0;
  bpf_copy_from_user_task(&c, 1, (void*)0x1000, t, 0);
  return 0;
}

SEC("iter/bpfprobe_corpus_no_such_iter")
int iter_missing(void* ctx) { return 0; }

// The task pointer may be NULL (last call): dereferencing it unchecked is refused.
SEC("iter/task")
int iter_task_unchecked(struct bpf_iter__task* ctx) { return ctx->task->pid; }

SEC("iter/ksym")
int iter_ksym(struct bpf_iter__ksym* ctx) {
  if (!ctx->ksym) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%llx\n", ctx->ksym->value);
  return 0;
}
