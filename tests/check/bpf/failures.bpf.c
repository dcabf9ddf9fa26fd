// Programs built to fail in one known way each (tests/check/check_test.cpp names the expectations).
// A strong kfunc extern the kernel lacks fails every program of its object: see strong_kfunc.bpf.c.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpfprobe_no_such_weak_kfunc(void) __ksym __weak;
// A per-CPU variable kernel BTF has (5.x on): libbpf resolves a weak typed ksym it finds there, so
// the verifier needs its address from kallsyms, which lists no data without CONFIG_KALLSYMS_ALL.
extern const int bpf_prog_active __ksym __weak;

// A field no kernel has, in a local flavour of task_struct.
struct task_struct___bpfprobe {
  int bpfprobe_no_such_field;
} __attribute__((preserve_access_index));

// bpf_redirect is for tc and XDP; a socket filter may not call it. (The call is not on the function's
// first line: check --format must name the line of the call.)
SEC("socket")
int helper_not_allowed(struct __sk_buff* skb) {
  __u32 ifindex = skb->ifindex;
  return bpf_redirect(ifindex, 0);  // ci-check: helper_not_allowed does not load, at this call
}

// The same refusal inside a subprogram: libbpf appends it after the program, and the verifier's
// failing instruction index points past the program's own code.
static __noinline int redirect_in_subprogram(struct __sk_buff* skb) { return bpf_redirect(skb->ifindex, 0); }

SEC("socket")
int helper_in_subprogram(struct __sk_buff* skb) {
  int len = skb->len;
  return redirect_in_subprogram(skb) + len;
}

SEC("tc")
int weak_kfunc_missing(struct __sk_buff* skb) {
  if (bpf_ksym_exists(bpfprobe_no_such_weak_kfunc)) bpfprobe_no_such_weak_kfunc();
  return 0;
}

// Without a guard the poisoned call is reached: "kfunc ... is referenced but wasn't resolved".
SEC("tc")
int weak_kfunc_missing_unguarded(struct __sk_buff* skb) {
  bpfprobe_no_such_weak_kfunc();
  return 0;
}

SEC("raw_tp/sys_enter")
int weak_typed_ksym_in_btf(void* ctx) {
  if (!bpf_ksym_exists(&bpf_prog_active)) return 0;
  return *(int*)bpf_this_cpu_ptr(&bpf_prog_active);
}

SEC("fentry/bpfprobe_no_such_function")
int BPF_PROG(fentry_target_missing) { return 0; }

SEC("raw_tp/sys_enter")
int core_field_unguarded(void* ctx) {
  struct task_struct___bpfprobe* t = (void*)bpf_get_current_task();
  return BPF_CORE_READ(t, bpfprobe_no_such_field);
}

SEC("raw_tp/sys_enter")
int core_field_guarded(void* ctx) {
  struct task_struct___bpfprobe* t = (void*)bpf_get_current_task();
  if (bpf_core_field_exists(t->bpfprobe_no_such_field)) return BPF_CORE_READ(t, bpfprobe_no_such_field);
  return 0;
}

SEC("fentry")
int BPF_PROG(placeholder_target) { return 0; }
