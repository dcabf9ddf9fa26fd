// fentry, fexit, fmod_ret (targets that exist, ones that do not, ones outside the modify-return
// allow list), their sleepable forms, a placeholder section and freplace.
#include "corpus.h"

SEC("fentry/vfs_read")
int BPF_PROG(fe_vfs_read, struct file* f, char* buf, size_t n) {
  count();
  return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(fx_vfs_read, struct file* f, char* buf, size_t n, loff_t* pos, ssize_t ret) { return 0; }

SEC("fentry/do_unlinkat")
int BPF_PROG(fe_unlinkat, int dfd, struct filename* name) {
  return BPF_CORE_READ(name, name) == 0;
}

SEC("fentry/bpfprobe_corpus_no_such_function")
int fe_missing(void* ctx) { return 0; }

SEC("fexit/bpfprobe_corpus_no_such_function")
int fx_missing(void* ctx) { return 0; }

// Syscall entry points allow error injection: fmod_ret may change their result.
SEC("fmod_ret/__x64_sys_nanosleep")
int BPF_PROG(fmr_nanosleep, struct pt_regs* regs, int ret) { return 0; }

// vfs_read allows no error injection and is no security hook: fmod_ret is refused.
SEC("fmod_ret/vfs_read")
int BPF_PROG(fmr_vfs_read_not_allowed, struct file* f) { return 0; }

// A security hook: fmod_ret is allowed there with the BPF LSM.
SEC("fmod_ret/security_file_open")
int BPF_PROG(fmr_security_file_open, struct file* f, int ret) { return 0; }

SEC("fmod_ret/bpfprobe_corpus_no_such_function")
int fmr_missing(void* ctx) { return 0; }

// Sleepable trampolines: only functions in the sleepable allow list (error injection) take them.
SEC("fentry.s/__x64_sys_nanosleep")
int BPF_PROG(fes_nanosleep, struct pt_regs* regs) {
  char c;
  return bpf_copy_from_user(&c, 1, (void*)PT_REGS_PARM1_CORE_SYSCALL(regs));
}

SEC("fentry.s/vfs_read")
int BPF_PROG(fes_vfs_read_not_allowed, struct file* f) { return 0; }

SEC("fexit.s/__x64_sys_write")
int BPF_PROG(fxs_write, struct pt_regs* regs, long ret) { return 0; }

// A non-sleepable fentry may not call a helper that may sleep.
SEC("fentry/__x64_sys_write")
int BPF_PROG(fe_sleeping_helper, struct pt_regs* regs) {
  char c;
  return bpf_copy_from_user(&c, 1, (void*)PT_REGS_PARM2_CORE_SYSCALL(regs));
}

// The target is set by the application before loading: as shipped there is none.
SEC("fentry")
int fe_placeholder(void* ctx) { return 0; }

SEC("fexit")
int fx_placeholder(void* ctx) { return 0; }

// freplace needs the target program's fd from the application.
SEC("freplace/handler")
int freplace_handler(struct xdp_md* ctx) { return XDP_PASS; }

SEC("freplace")
int freplace_placeholder(void* ctx) { return 0; }

// bpf_get_func_ret/arg in fexit (5.17) and bpf_get_func_ip (5.15).
SEC("fexit/do_nanosleep")
int fx_func_ret(void* ctx) {
  __u64 r = 0;
  bpf_get_func_ret(ctx, &r);
  return bpf_get_func_arg_cnt(ctx) + (int)r;
}

SEC("fentry/do_nanosleep")
int fe_func_ip(void* ctx) { return bpf_get_func_ip(ctx) == 0; }

// Functions on the trampoline deny list (BTF has them; tracing them is refused).
SEC("fentry/migrate_disable")
int fe_denied_migrate_disable(void* ctx) { return 0; }

SEC("fentry/__rcu_read_lock")
int fe_denied_rcu_read_lock(void* ctx) { return 0; }

// The test functions the kernel keeps for BPF selftests.
SEC("fentry/bpf_fentry_test1")
int BPF_PROG(fe_test1, int a) { return a; }

SEC("fexit/bpf_fentry_test1")
int BPF_PROG(fx_test1, int a, int ret) { return ret; }
