// CO-RE relocations: fields that exist, fields that do not (plain, guarded by a test of the same
// field, guarded by a test of another field), types, enum values, bitfields, sizes.
#include "corpus.h"

struct task_struct___corpus {
  int pid;
  int bpfprobe_corpus_gone;
  int bpfprobe_corpus_gone_too;
} __attribute__((preserve_access_index));

struct mm_struct___corpus_old {
  unsigned long bpfprobe_corpus_old_rss;
} __attribute__((preserve_access_index));

enum bpf_map_type___corpus { BPF_MAP_TYPE_ARENA___corpus = 33, BPF_MAP_TYPE_BPFPROBE_CORPUS = 999 };

struct bpfprobe_corpus_absent_type {
  int a;
};

SEC("tp_btf/sched_switch")
int BPF_PROG(core_present, bool preempt, struct task_struct* prev) {
  return BPF_CORE_READ(prev, mm, map_count) > 0;
}

SEC("raw_tp/sys_enter")
int core_present_probe_read(void* ctx) {
  struct task_struct* t = (void*)bpf_get_current_task();
  return BPF_CORE_READ(t, real_parent, tgid) == 1;
}

SEC("raw_tp/sys_enter")
int core_missing_unguarded(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  return BPF_CORE_READ(t, bpfprobe_corpus_gone);
}

SEC("raw_tp/sys_enter")
int core_missing_guarded_same(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  if (bpf_core_field_exists(t->bpfprobe_corpus_gone)) return BPF_CORE_READ(t, bpfprobe_corpus_gone);
  return BPF_CORE_READ(t, pid);
}

// The guard tests one missing field, the read uses another: both are missing, the read is dead.
SEC("raw_tp/sys_enter")
int core_missing_guarded_other_missing(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  if (bpf_core_field_exists(t->bpfprobe_corpus_gone_too)) return BPF_CORE_READ(t, bpfprobe_corpus_gone);
  return 0;
}

// The guard tests a field that exists (pid): the branch is live and the missing read is reached.
SEC("raw_tp/sys_enter")
int core_missing_guarded_by_present(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  if (bpf_core_field_exists(t->pid)) return BPF_CORE_READ(t, bpfprobe_corpus_gone);
  return 0;
}

// Reached on both sides of a guard: the read after the branch is always live.
SEC("raw_tp/sys_enter")
int core_missing_after_guard(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  int v = 0;
  if (bpf_core_field_exists(t->bpfprobe_corpus_gone)) v = 1;
  return v + BPF_CORE_READ(t, bpfprobe_corpus_gone);
}

// A missing field of a type the kernel has under another flavour only.
SEC("kprobe/vfs_read")
int core_old_mm_field(struct pt_regs* ctx) {
  struct task_struct* t = (void*)bpf_get_current_task();
  struct mm_struct___corpus_old* mm = (void*)BPF_CORE_READ(t, mm);
  return BPF_CORE_READ(mm, bpfprobe_corpus_old_rss) > 0;
}

SEC("socket")
int core_type_exists(struct __sk_buff* skb) {
  return bpf_core_type_exists(struct bpfprobe_corpus_absent_type) ? 1 : 2;
}

SEC("socket")
int core_type_size(struct __sk_buff* skb) { return bpf_core_type_size(struct task_struct); }

SEC("socket")
int core_enum_value(struct __sk_buff* skb) {
  return bpf_core_enum_value_exists(enum bpf_map_type___corpus, BPF_MAP_TYPE_ARENA___corpus) ? 3 : 4;
}

SEC("socket")
int core_enum_value_read(struct __sk_buff* skb) {
  return bpf_core_enum_value(enum bpf_map_type___corpus, BPF_MAP_TYPE_ARENA___corpus);
}

// The value of an enumerator the kernel lacks, read without a guard: poisoned and reached.
SEC("socket")
int core_enum_value_missing(struct __sk_buff* skb) {
  return bpf_core_enum_value(enum bpf_map_type___corpus, BPF_MAP_TYPE_BPFPROBE_CORPUS);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(core_bitfield, bool preempt, struct task_struct* prev) {
  return BPF_CORE_READ_BITFIELD_PROBED(prev, in_execve);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(core_field_size, bool preempt, struct task_struct* prev) {
  return bpf_core_field_size(prev->comm) + bpf_core_field_offset(prev->pid);
}

// type_matches needs clang 15 or later.
#if __clang_major__ >= 15
SEC("raw_tp/sys_enter")
int core_type_matches(void* ctx) { return bpf_core_type_matches(struct task_struct___corpus); }
#endif

// The missing field behind a test of an absent type: dead.
SEC("raw_tp/sys_enter")
int core_missing_guarded_absent_type(void* ctx) {
  struct task_struct___corpus* t = (void*)bpf_get_current_task();
  if (bpf_core_type_exists(struct bpfprobe_corpus_absent_type)) return BPF_CORE_READ(t, bpfprobe_corpus_gone);
  return 1;
}

// Direct BTF pointer access in tp_btf through a relocated field.
SEC("tp_btf/sched_switch")
int BPF_PROG(core_direct_missing, bool preempt, struct task_struct___corpus* prev) {
  return prev->bpfprobe_corpus_gone;
}
