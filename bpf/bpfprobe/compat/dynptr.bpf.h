/* dynptr accessors: size, offset, read-only, null, type.
 *
 *   tier 1 KFUNC       bpf_dynptr_size / _is_rdonly / _is_null (6.5, 26662d7347a0, 540ccf96ddbc);
 *                      offset and type have no kfunc, their best tier is 2
 *   tier 2 CAST        bpf_rdonly_cast() of the dynptr to struct bpf_dynptr_kern, CO-RE field loads (6.2)
 *   tier 3 PROBE_READ  bpf_probe_read_kernel() at CO-RE offsets of struct bpf_dynptr_kern
 *   UNAVAILABLE        the load fails naming bpfprobe_unavailable__dynptr_<accessor>
 *
 * struct bpf_dynptr_kern is { void *data; u32 size; u32 offset; } from 5.19 to at least 7.x, and its
 * 32-bit `size` word is packed (include/linux/bpf.h, kernel/bpf/helpers.c):
 *   bits 0-23   usable size            DYNPTR_SIZE_MASK  0xFFFFFF
 *   bits 28-30  enum bpf_dynptr_type   DYNPTR_TYPE_SHIFT 28, value (size & ~RDONLY) >> 28
 *   bit  31     read-only              DYNPTR_RDONLY_BIT BIT(31)
 * Those masks are #defines, not BTF, so CO-RE cannot relocate them. The BPFPROBE_DYNPTR_* copies below
 * are used only while CO-RE confirms the layout they describe: the struct exists and `size` is still
 * 4 bytes (bpfprobe_dynptr_layout_known(); the C++ side checks the same in kernel BTF). Compare
 * bpfprobe_dynptr_type() with bpf_core_enum_value(enum bpf_dynptr_type, BPF_DYNPTR_TYPE_…), which
 * CO-RE does relocate. */
#ifndef BPFPROBE_COMPAT_DYNPTR_BPF_H
#define BPFPROBE_COMPAT_DYNPTR_BPF_H

#include <bpfprobe/compat/common.bpf.h>

#define BPFPROBE_DYNPTR_SIZE_MASK 0xFFFFFFu
#define BPFPROBE_DYNPTR_TYPE_SHIFT 28
#define BPFPROBE_DYNPTR_RDONLY_BIT 0x80000000u
#define BPFPROBE_DYNPTR_EINVAL 22

BPFPROBE_ACCESSOR(dynptr_size);
BPFPROBE_ACCESSOR(dynptr_offset);
BPFPROBE_ACCESSOR(dynptr_is_rdonly);
BPFPROBE_ACCESSOR(dynptr_is_null);
BPFPROBE_ACCESSOR(dynptr_type);

extern __u32 bpf_dynptr_size___bpfprobe(const struct bpf_dynptr* p) __ksym __weak;
extern bool bpf_dynptr_is_rdonly___bpfprobe(const struct bpf_dynptr* p) __ksym __weak;
extern bool bpf_dynptr_is_null___bpfprobe(const struct bpf_dynptr* p) __ksym __weak;

static __always_inline bool bpfprobe_dynptr_layout_known(void) {
  if (!bpf_core_type_exists(struct bpf_dynptr_kern)) return false;
  if (!bpf_core_field_exists(struct bpf_dynptr_kern, data) || !bpf_core_field_exists(struct bpf_dynptr_kern, size) ||
      !bpf_core_field_exists(struct bpf_dynptr_kern, offset))
    return false;
  return bpf_core_field_size(struct bpf_dynptr_kern, size) == 4;
}

/* The tier to use: the flag, or in AUTO mode the best one this kernel has. */
static __always_inline __u32 bpfprobe__dynptr_tier(__u32 flag, bool kfunc_exists) {
  if (flag != BPFPROBE_TIER_AUTO) return flag;
  if (kfunc_exists) return BPFPROBE_DYNPTR_KFUNC;
  if (!bpfprobe_dynptr_layout_known()) return BPFPROBE_TIER_UNAVAILABLE;
  if (bpfprobe__rdonly_cast_exists()) return BPFPROBE_DYNPTR_CAST;
  if (bpfprobe_helper_exists(probe_read_kernel)) return BPFPROBE_DYNPTR_PROBE_READ;
  return BPFPROBE_TIER_UNAVAILABLE;
}

/* One member of the dynptr's struct bpf_dynptr_kern, through tier 2 or 3. */
#define __bpfprobe_dynptr_member(p, member, tier)                                                      \
  ({                                                                                                   \
    typeof(((struct bpf_dynptr_kern*)0)->member) __m = 0;                                              \
    if ((tier) == BPFPROBE_DYNPTR_CAST) {                                                              \
      const struct bpf_dynptr_kern* __k =                                                              \
          bpf_rdonly_cast___bpfprobe((p), bpf_core_type_id_kernel(struct bpf_dynptr_kern));            \
      __m = __k->member;                                                                               \
    } else {                                                                                           \
      bpf_probe_read_kernel(&__m, sizeof(__m),                                                         \
                            (const char*)(p) + bpf_core_field_offset(struct bpf_dynptr_kern, member)); \
    }                                                                                                  \
    __m;                                                                                               \
  })

#define __bpfprobe_dynptr_cast_or_read(tier) ((tier) == BPFPROBE_DYNPTR_CAST || (tier) == BPFPROBE_DYNPTR_PROBE_READ)

/* Usable bytes from the current offset, as bpf_dynptr_size() answers: (__u32)-EINVAL for a null
 * dynptr (the kfunc checks `data` first). */
static __always_inline __u32 bpfprobe_dynptr_size(const struct bpf_dynptr* p) {
  __u32 tier = bpfprobe__dynptr_tier(BPFPROBE_TIER(dynptr_size), bpf_ksym_exists(bpf_dynptr_size___bpfprobe));
  if (tier == BPFPROBE_DYNPTR_KFUNC) return bpf_dynptr_size___bpfprobe(p);
  if (__bpfprobe_dynptr_cast_or_read(tier)) {
    if (__bpfprobe_dynptr_member(p, data, tier) == 0) return (__u32)-BPFPROBE_DYNPTR_EINVAL;
    return __bpfprobe_dynptr_member(p, size, tier) & BPFPROBE_DYNPTR_SIZE_MASK;
  }
  BPFPROBE_UNAVAILABLE(dynptr_size);
  return 0;
}

/* Offset of the dynptr's view into its data (moved by bpf_dynptr_adjust()). No kfunc returns it. */
static __always_inline __u32 bpfprobe_dynptr_offset(const struct bpf_dynptr* p) {
  __u32 tier = bpfprobe__dynptr_tier(BPFPROBE_TIER(dynptr_offset), false);
  if (__bpfprobe_dynptr_cast_or_read(tier)) return __bpfprobe_dynptr_member(p, offset, tier);
  BPFPROBE_UNAVAILABLE(dynptr_offset);
  return 0;
}

/* True for a null dynptr (e.g. after a failed bpf_dynptr_from_mem()). */
static __always_inline bool bpfprobe_dynptr_is_null(const struct bpf_dynptr* p) {
  __u32 tier = bpfprobe__dynptr_tier(BPFPROBE_TIER(dynptr_is_null), bpf_ksym_exists(bpf_dynptr_is_null___bpfprobe));
  if (tier == BPFPROBE_DYNPTR_KFUNC) return bpf_dynptr_is_null___bpfprobe(p);
  if (__bpfprobe_dynptr_cast_or_read(tier)) return __bpfprobe_dynptr_member(p, data, tier) == 0;
  BPFPROBE_UNAVAILABLE(dynptr_is_null);
  return false;
}

/* True for a read-only dynptr (an skb dynptr in a program type that may not write packets); false
 * for a null one, as the kfunc answers. */
static __always_inline bool bpfprobe_dynptr_is_rdonly(const struct bpf_dynptr* p) {
  __u32 tier = bpfprobe__dynptr_tier(BPFPROBE_TIER(dynptr_is_rdonly), bpf_ksym_exists(bpf_dynptr_is_rdonly___bpfprobe));
  if (tier == BPFPROBE_DYNPTR_KFUNC) return bpf_dynptr_is_rdonly___bpfprobe(p);
  if (__bpfprobe_dynptr_cast_or_read(tier)) {
    if (__bpfprobe_dynptr_member(p, data, tier) == 0) return false;
    return (__bpfprobe_dynptr_member(p, size, tier) & BPFPROBE_DYNPTR_RDONLY_BIT) != 0;
  }
  BPFPROBE_UNAVAILABLE(dynptr_is_rdonly);
  return false;
}

/* The kernel's enum bpf_dynptr_type value (BPF_DYNPTR_TYPE_INVALID, i.e. 0, for a null dynptr). */
static __always_inline __u32 bpfprobe_dynptr_type(const struct bpf_dynptr* p) {
  __u32 tier = bpfprobe__dynptr_tier(BPFPROBE_TIER(dynptr_type), false);
  if (__bpfprobe_dynptr_cast_or_read(tier))
    return (__bpfprobe_dynptr_member(p, size, tier) & ~BPFPROBE_DYNPTR_RDONLY_BIT) >> BPFPROBE_DYNPTR_TYPE_SHIFT;
  BPFPROBE_UNAVAILABLE(dynptr_type);
  return 0;
}

#endif /* BPFPROBE_COMPAT_DYNPTR_BPF_H */
