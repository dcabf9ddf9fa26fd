/* Fields of the current task.
 *
 *   tier 1 BTF         bpf_get_current_task_btf() (5.11): a trusted pointer, plain loads
 *   tier 2 CAST        bpf_rdonly_cast(bpf_get_current_task(), task_struct) (6.2): plain loads, which
 *                      the verifier turns into fault-safe loads of an untrusted pointer
 *   tier 3 PROBE_READ  bpf_get_current_task() + BPF_CORE_READ (bpf_probe_read_kernel per member)
 *
 * bpfprobe_current_task_read(pid), bpfprobe_current_task_read(real_parent, tgid): the value of
 * current->pid, current->real_parent->tgid (up to four members; scalar or pointer members, not arrays). */
#ifndef BPFPROBE_COMPAT_TASK_BPF_H
#define BPFPROBE_COMPAT_TASK_BPF_H

#include <bpfprobe/compat/common.bpf.h>

BPFPROBE_ACCESSOR(current_task);

static __always_inline __u32 bpfprobe__task_tier(void) {
  __u32 flag = BPFPROBE_TIER(current_task);
  if (flag != BPFPROBE_TIER_AUTO) return flag;
  if (bpfprobe_helper_exists(get_current_task_btf)) return BPFPROBE_TASK_BTF;
  if (bpfprobe__rdonly_cast_exists() && bpf_core_type_exists(struct task_struct)) return BPFPROBE_TASK_CAST;
  if (bpfprobe_helper_exists(probe_read_kernel)) return BPFPROBE_TASK_PROBE_READ;
  return BPFPROBE_TIER_UNAVAILABLE;
}

#define bpfprobe_current_task_read(...)                                                                           \
  ({                                                                                                              \
    typeof(__bpfprobe_arrow((struct task_struct*)0, __VA_ARGS__)) __v = 0;                                        \
    __u32 __tier = bpfprobe__task_tier();                                                                         \
    if (__tier == BPFPROBE_TASK_BTF) {                                                                            \
      __v = __bpfprobe_arrow(bpf_get_current_task_btf(), __VA_ARGS__);                                            \
    } else if (__tier == BPFPROBE_TASK_CAST) {                                                                    \
      struct task_struct* __t =                                                                                   \
          bpf_rdonly_cast___bpfprobe((void*)bpf_get_current_task(), bpf_core_type_id_kernel(struct task_struct)); \
      __v = __bpfprobe_arrow(__t, __VA_ARGS__);                                                                   \
    } else if (__tier == BPFPROBE_TASK_PROBE_READ) {                                                              \
      BPF_CORE_READ_INTO(&__v, (struct task_struct*)bpf_get_current_task(), __VA_ARGS__);                         \
    } else {                                                                                                      \
      BPFPROBE_UNAVAILABLE(current_task);                                                                         \
    }                                                                                                             \
    __v;                                                                                                          \
  })

#endif /* BPFPROBE_COMPAT_TASK_BPF_H */
