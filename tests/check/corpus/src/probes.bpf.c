// kprobe, kretprobe, ksyscall, kprobe.multi, uprobe, uretprobe, uprobe.multi, usdt and sleepable
// uprobes. Loading needs no kprobe support (attaching does); helpers decide the rest.
#include "corpus.h"
#include <bpf/usdt.bpf.h>

SEC("kprobe/do_nanosleep")
int BPF_KPROBE(kp_nanosleep, struct hrtimer_sleeper* t) {
  count();
  return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(kp_vfs_read_args, struct file* f, char* buf, size_t n) {
  bpf_printk("read %lu", n);
  return 0;
}

// A function no kernel has: the load does not look at the target, the attach would.
SEC("kprobe/bpfprobe_corpus_no_such_function")
int kp_missing_target(struct pt_regs* ctx) {
  count();
  return 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(krp_vfs_read, ssize_t ret) { return ret < 0; }

SEC("ksyscall/nanosleep")
int BPF_KSYSCALL(ksys_nanosleep, struct __kernel_timespec* req) {
  count();
  return 0;
}

SEC("kretsyscall/nanosleep")
int BPF_KRETPROBE(kretsys_nanosleep, long ret) { return 0; }

SEC("kprobe.multi/vfs_*")
int kpm_vfs(struct pt_regs* ctx) {
  __u64 ip = bpf_get_func_ip(ctx);
  return ip == 0;
}

SEC("kretprobe.multi/vfs_read")
int krpm_vfs_read(struct pt_regs* ctx) {
  count();
  return 0;
}

// bpf_get_attach_cookie in a kprobe (5.15).
SEC("kprobe/ksys_read")
int kp_cookie(struct pt_regs* ctx) { return bpf_get_attach_cookie(ctx) == 7; }

// The kernel stack of the probed function: bpf_get_stack (4.18).
SEC("kprobe/do_exit")
int kp_stack(struct pt_regs* ctx) {
  __u64 frames[16];
  return bpf_get_stack(ctx, frames, sizeof(frames), 0) < 0;
}

// bpf_override_return needs CONFIG_BPF_KPROBE_OVERRIDE; without it the helper is unknown.
SEC("kprobe/__x64_sys_nanosleep")
int kp_override(struct pt_regs* ctx) { return bpf_override_return(ctx, -1); }

// bpf_copy_from_user may sleep: a non-sleepable kprobe may not call it.
SEC("kprobe/ksys_read")
int kp_copy_from_user(struct pt_regs* ctx) {
  char buf[16];
  return bpf_copy_from_user(buf, sizeof(buf), (void*)PT_REGS_PARM2(ctx));
}

SEC("uprobe")
int up_placeholder(struct pt_regs* ctx) {
  count();
  return 0;
}

SEC("uprobe//bin/bash:readline")
int BPF_UPROBE(up_readline, const char* prompt) {
  char buf[8];
  bpf_probe_read_user_str(buf, sizeof(buf), prompt);
  return 0;
}

SEC("uretprobe//bin/bash:readline")
int BPF_URETPROBE(urp_readline, const char* line) { return line == 0; }

SEC("uprobe.multi//bin/bash:read*")
int upm_bash(struct pt_regs* ctx) {
  count();
  return 0;
}

SEC("uretprobe.multi//bin/bash:readline")
int urpm_bash(struct pt_regs* ctx) { return 0; }

// Sleepable uprobes (6.2) may copy from user memory.
SEC("uprobe.s//bin/bash:readline")
int ups_copy(struct pt_regs* ctx) {
  char buf[16];
  return bpf_copy_from_user(buf, sizeof(buf), (void*)PT_REGS_PARM1(ctx));
}

SEC("uretprobe.s//bin/bash:readline")
int urps_plain(struct pt_regs* ctx) { return 0; }

SEC("uprobe.multi.s//bin/bash:readline")
int upms_copy(struct pt_regs* ctx) {
  char c;
  return bpf_copy_from_user(&c, 1, (void*)PT_REGS_PARM1(ctx));
}

SEC("usdt")
int BPF_USDT(usdt_placeholder, long a, long b) { return a + b > 0; }

SEC("usdt//usr/lib/x86_64-linux-gnu/libc.so.6:libc:setjmp")
int BPF_USDT(usdt_libc_setjmp, void* env) {
  count();
  return 0;
}

// A kprobe reading a kernel field through CO-RE.
SEC("kprobe/vfs_read")
int BPF_KPROBE(kp_core_read, struct file* f) {
  return BPF_CORE_READ(f, f_inode, i_ino) == 1;
}

// bpf_get_func_ip in a kprobe (5.15) and bpf_get_current_task_btf (5.11; tracing programs only).
SEC("kprobe/vfs_read")
int kp_task_btf(struct pt_regs* ctx) {
  struct task_struct* t = bpf_get_current_task_btf();
  return t->pid == 1;
}
