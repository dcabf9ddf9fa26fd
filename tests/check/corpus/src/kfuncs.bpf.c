// kfuncs: present ones in program types that may call them and ones that may not, weak kfuncs the
// kernel lacks with and without bpf_ksym_exists() guards, and acquire/release pairing.
#include "corpus.h"

extern struct task_struct* bpf_task_acquire(struct task_struct* p) __ksym;
extern void bpf_task_release(struct task_struct* p) __ksym;
extern struct task_struct* bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct bpf_cpumask* bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask* m) __ksym;
extern void* bpf_cast_to_kern_ctx(void* ctx) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff* skb, __u64 flags, struct bpf_dynptr* p) __ksym;
extern int bpf_dynptr_from_xdp(struct xdp_md* x, __u64 flags, struct bpf_dynptr* p) __ksym;
extern __u64 bpf_map_sum_elem_count(const struct bpf_map* map) __ksym __weak;
extern int bpfprobe_corpus_no_such_kfunc(int x) __ksym __weak;
extern int bpfprobe_corpus_other_missing_kfunc(void) __ksym __weak;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kf_task_acquire, struct task_struct* parent, struct task_struct* child) {
  struct task_struct* t = bpf_task_acquire(child);
  if (!t) return 0;
  bpf_task_release(t);
  return 0;
}

// An acquired reference that is never released is refused.
SEC("tp_btf/sched_process_fork")
int BPF_PROG(kf_task_leak, struct task_struct* parent, struct task_struct* child) {
  struct task_struct* t = bpf_task_acquire(child);
  return t != 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kf_task_from_pid, struct task_struct* parent) {
  struct task_struct* t = bpf_task_from_pid(1);
  if (!t) return 0;
  bpf_task_release(t);
  return 0;
}

SEC("fentry/do_nanosleep")
int kf_rcu(void* ctx) {
  bpf_rcu_read_lock();
  bpf_rcu_read_unlock();
  return 0;
}

SEC("tp_btf/sched_switch")
int kf_cpumask(void* ctx) {
  struct bpf_cpumask* m = bpf_cpumask_create();
  if (m) bpf_cpumask_release(m);
  return 0;
}

SEC("tc")
int kf_dynptr_skb(struct __sk_buff* skb) {
  struct bpf_dynptr p;
  return bpf_dynptr_from_skb(skb, 0, &p);
}

SEC("xdp")
int kf_dynptr_xdp(struct xdp_md* x) {
  struct bpf_dynptr p;
  bpf_dynptr_from_xdp(x, 0, &p);
  return XDP_PASS;
}

SEC("xdp")
int kf_cast_ctx(struct xdp_md* x) {
  struct xdp_buff* kctx = bpf_cast_to_kern_ctx(x);
  return kctx->data_end == kctx->data ? XDP_DROP : XDP_PASS;
}

// Task kfuncs from a socket filter: not in that program type's kfunc set.
SEC("socket")
int kf_task_in_socket(struct __sk_buff* skb) {
  struct task_struct* t = bpf_task_from_pid(1);
  if (t) bpf_task_release(t);
  return 0;
}

// Skb dynptrs from a kprobe: no skb there, and the kfunc is not in the kprobe set.
SEC("kprobe/vfs_read")
int kf_dynptr_in_kprobe(struct pt_regs* ctx) {
  struct bpf_dynptr p;
  return bpf_dynptr_from_skb((void*)ctx, 0, &p);
}

// cpumask kfuncs from a perf_event program.
SEC("perf_event")
int kf_cpumask_in_perf(void* ctx) {
  struct bpf_cpumask* m = bpf_cpumask_create();
  if (m) bpf_cpumask_release(m);
  return 0;
}

// rcu_read_lock from a cgroup_skb program.
SEC("cgroup_skb/egress")
int kf_rcu_in_cgskb(struct __sk_buff* skb) {
  bpf_rcu_read_lock();
  bpf_rcu_read_unlock();
  return 1;
}

SEC("raw_tp/sys_enter")
int kf_weak_missing_guarded(void* ctx) {
  if (bpf_ksym_exists(bpfprobe_corpus_no_such_kfunc)) return bpfprobe_corpus_no_such_kfunc(1);
  return 0;
}

SEC("raw_tp/sys_enter")
int kf_weak_missing_unguarded(void* ctx) { return bpfprobe_corpus_other_missing_kfunc(); }

// A weak kfunc the kernel has (6.6), guarded: the call is live and allowed in tracing programs.
SEC("tp_btf/sched_switch")
int kf_weak_present_guarded(void* ctx) {
  if (bpf_ksym_exists(bpf_map_sum_elem_count)) return bpf_map_sum_elem_count((void*)&hits) > 1;
  return 0;
}

SEC("tp_btf/sched_switch")
int kf_weak_present_unguarded(void* ctx) { return bpf_map_sum_elem_count((void*)&hits) > 1; }
