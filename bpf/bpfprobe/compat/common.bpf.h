/* What every bpfprobe compat header shares: the tier flags in .rodata, the "unavailable" answer, and
 * existence checks that are safe on every kernel.
 *
 * A tier flag is `const volatile __u32 bpfprobe_tier_<accessor>` in .rodata. libbpf freezes .rodata
 * before load, so the verifier knows the value and never walks the other tiers: code for a kfunc or
 * helper the kernel lacks may stay in the object. 0 means AUTO: the accessor decides at load time from
 * CO-RE relocations (bpf_core_*_exists, the kernel's enum bpf_func_id) and bpf_ksym_exists().
 * bpfprobe::compat::configure() (C++) writes a tier chosen from probe verdicts instead.
 *
 * kfuncs are declared with a "___bpfprobe" flavor suffix (libbpf strips it when it resolves the
 * symbol), so these declarations never clash with the prototypes a newer bpftool puts in vmlinux.h. */
#ifndef BPFPROBE_COMPAT_COMMON_BPF_H
#define BPFPROBE_COMPAT_COMMON_BPF_H

/* vmlinux.h first: it defines the types libbpf's headers use. */
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpfprobe/compat/tiers.h>
// clang-format on

#define BPFPROBE_TIER(accessor) bpfprobe_tier_##accessor

/* Weak, so that several compilation units statically linked into one object may all include it. */
#define BPFPROBE_DEFINE_TIER(accessor) const volatile __u32 BPFPROBE_TIER(accessor) __weak = BPFPROBE_TIER_AUTO

/* The answer when no tier works: a call to a kfunc that no kernel has. libbpf leaves the weak extern
 * unresolved and poisons the call; if the verifier reaches it the load fails and libbpf's log says
 * "kfunc 'bpfprobe_unavailable__<accessor>' is referenced but wasn't resolved". Dead, it costs nothing. */
#define BPFPROBE_DECLARE_UNAVAILABLE(accessor) extern void bpfprobe_unavailable__##accessor(void) __ksym __weak
#define BPFPROBE_UNAVAILABLE(accessor) bpfprobe_unavailable__##accessor()

/* What every accessor declares: its tier flag and its unavailable marker. */
#define BPFPROBE_ACCESSOR(accessor) \
  BPFPROBE_DEFINE_TIER(accessor);   \
  BPFPROBE_DECLARE_UNAVAILABLE(accessor)

/* The kernel knows the helper (it is in its enum bpf_func_id). Whether this program type may call it
 * is the C++ side's question; AUTO only uses this as a best guess. */
#define bpfprobe_helper_exists(name) bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_##name)

extern void* bpf_rdonly_cast___bpfprobe(const void* obj, __u32 btf_id) __ksym __weak;

/* bpf_ksym_exists() loads the kfunc's address with ld_imm64, which the verifier accepts only from 6.4
 * (before, it rejects the program even when the check is dead code). bpf_rdonly_cast() exists from
 * 6.2, so its existence is read from the verifier's own enum special_kfunc_type instead, which gained
 * KF_bpf_rdonly_cast with it; the flavored copy below only names it for the CO-RE relocation. */
enum special_kfunc_type___bpfprobe { KF_bpf_rdonly_cast___bpfprobe = 0 };
#define bpfprobe__rdonly_cast_exists() \
  bpf_core_enum_value_exists(enum special_kfunc_type___bpfprobe, KF_bpf_rdonly_cast___bpfprobe)

/* p->a->b->c for up to four member names: the accessor macros take a member path as a list. */
#define __bpfprobe_concat_(a, b) a##b
#define __bpfprobe_concat(a, b) __bpfprobe_concat_(a, b)
#define __bpfprobe_nth(_1, _2, _3, _4, N, ...) N
#define __bpfprobe_arrow1(p, a) (p)->a
#define __bpfprobe_arrow2(p, a, b) (p)->a->b
#define __bpfprobe_arrow3(p, a, b, c) (p)->a->b->c
#define __bpfprobe_arrow4(p, a, b, c, d) (p)->a->b->c->d
#define __bpfprobe_arrow(p, ...) \
  __bpfprobe_concat(__bpfprobe_arrow, __bpfprobe_nth(__VA_ARGS__, 4, 3, 2, 1))(p, __VA_ARGS__)

#endif /* BPFPROBE_COMPAT_COMMON_BPF_H */
