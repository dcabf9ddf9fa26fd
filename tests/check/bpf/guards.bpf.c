// Calls and CO-RE reads behind bpf_core_*_exists guards. libbpf writes the guard's answer into the
// code as a constant, and the verifier skips the branch it proves dead: a helper the program type
// may not call (bpf_redirect in a socket filter) fails the load only where the guard holds.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// Names no kernel has, in local flavours of kernel types (and one type of its own).
struct task_struct___bpfprobe_guard {
  int bpfprobe_no_such_field;
} __attribute__((preserve_access_index));

enum bpf_func_id___bpfprobe_guard { bpfprobe_no_such_value = 100000 };

struct bpfprobe_no_such_type {
  int x;
};

// Called only from a dead branch: its helper call is never checked either.
static __noinline int redirect_sub(struct __sk_buff* skb) { return bpf_redirect(skb->ifindex, 0); }

SEC("socket")
int dead_by_missing_enum_value(struct __sk_buff* skb) {
  if (bpf_core_enum_value_exists(enum bpf_func_id___bpfprobe_guard, bpfprobe_no_such_value))
    return bpf_redirect(skb->ifindex, 0);
  return 0;
}

SEC("socket")
int dead_by_missing_field(struct __sk_buff* skb) {
  if (bpf_core_field_exists(struct task_struct___bpfprobe_guard, bpfprobe_no_such_field))
    return bpf_redirect(skb->ifindex, 0);
  return skb->len;
}

SEC("socket")
int dead_subprogram_call(struct __sk_buff* skb) {
  if (bpf_core_type_exists(struct bpfprobe_no_such_type)) return redirect_sub(skb);
  return 0;
}

// The guard holds on every kernel with BTF (bpf_redirect is helper 23, 4.4): the call is checked.
SEC("socket")
int live_by_existing_enum_value(struct __sk_buff* skb) {
  if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_redirect)) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

SEC("socket")
int live_by_existing_field(struct __sk_buff* skb) {
  if (bpf_core_field_exists(struct task_struct, pid)) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

// A CO-RE read of a field no kernel has, behind a test of another type that does not exist either:
// libbpf poisons the read, the verifier never reaches it.
SEC("raw_tp/sys_enter")
int dead_core_read_other_guard(void* ctx) {
  struct task_struct___bpfprobe_guard* t = (void*)bpf_get_current_task();
  if (bpf_core_type_exists(struct bpfprobe_no_such_type)) return BPF_CORE_READ(t, bpfprobe_no_such_field);
  return 0;
}

// `const volatile` globals live in .rodata, which libbpf freezes before loading: the verifier reads
// their values (5.2) and settles tests of them. As compiled, the first is false, the second true.
const volatile bool bpfprobe_use_redirect = false;
const volatile int bpfprobe_redirect_level = 3;

SEC("socket")
int dead_by_rodata_flag(struct __sk_buff* skb) {
  if (bpfprobe_use_redirect) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

SEC("socket")
int live_by_rodata_value(struct __sk_buff* skb) {
  if (bpfprobe_redirect_level > 2) return bpf_redirect(skb->ifindex, 0);
  return 0;
}

// Unresolved CO-RE reads the verifier reaches all the same: behind a test of a field the kernel
// has (the guard holds), and after the branches of a guard join. libbpf poisons them: no load.
SEC("raw_tp/sys_enter")
int core_read_guarded_by_present_field(void* ctx) {
  struct task_struct___bpfprobe_guard* t = (void*)bpf_get_current_task();
  if (bpf_core_field_exists(struct task_struct, pid)) return BPF_CORE_READ(t, bpfprobe_no_such_field);
  return 0;
}

SEC("raw_tp/sys_enter")
int core_read_after_guard(void* ctx) {
  struct task_struct___bpfprobe_guard* t = (void*)bpf_get_current_task();
  int v = 0;
  if (bpf_core_field_exists(t->bpfprobe_no_such_field)) v = 1;
  return v + BPF_CORE_READ(t, bpfprobe_no_such_field);
}
