/* A loop of n passes over a callback, with bpf_loop()'s contract: the callback is
 * `static long fn(__u64 index, void *ctx)`, returns 0 to go on and 1 to stop, and the result is the
 * number of calls made, or -E2BIG when n is over the limit.
 *
 *   tier 1 ITER      open-coded bpf_for() over bpf_iter_num (6.4; the macro comes from libbpf >= 1.2)
 *   tier 2 CALLBACK  bpf_loop() (5.17)
 *   tier 3 UNROLLED  a loop clang unrolls: at most BPFPROBE_LOOP_UNROLL_MAX passes (default 32;
 *                    -E2BIG above), no back-edges, so it loads on any kernel
 * All tiers answer -E2BIG above bpf_loop's limit of 1 << 23 passes.
 *
 * Compile-time opt-outs, for objects that must load on old kernels, where the verifier rejects the
 * code even when it is dead:
 *   BPFPROBE_LOOP_NO_CALLBACK  before 5.13 the callback's address (ld_imm64 BPF_PSEUDO_FUNC) is refused
 *   BPFPROBE_LOOP_NO_ITER      before 5.3 any back-edge is refused (also implied without bpf_for)
 * The object records which tiers it has in bpfprobe_compiled_loop, and the C++ side never picks a
 * tier that is compiled out; selecting one anyway is UNAVAILABLE. */
#ifndef BPFPROBE_COMPAT_LOOPS_BPF_H
#define BPFPROBE_COMPAT_LOOPS_BPF_H

#include <bpfprobe/compat/common.bpf.h>

#ifndef BPFPROBE_LOOP_UNROLL_MAX
#define BPFPROBE_LOOP_UNROLL_MAX 32
#endif
#define BPFPROBE_LOOP_MAX (1u << 23)
#define BPFPROBE_E2BIG 7

#if !defined(bpf_for) && !defined(BPFPROBE_LOOP_NO_ITER)
#define BPFPROBE_LOOP_NO_ITER
#endif

#ifdef BPFPROBE_LOOP_NO_ITER
#define __BPFPROBE_LOOP_HAS_ITER 0
#else
#define __BPFPROBE_LOOP_HAS_ITER (1u << BPFPROBE_LOOP_ITER)
#endif
#ifdef BPFPROBE_LOOP_NO_CALLBACK
#define __BPFPROBE_LOOP_HAS_CALLBACK 0
#else
#define __BPFPROBE_LOOP_HAS_CALLBACK (1u << BPFPROBE_LOOP_CALLBACK)
#endif

BPFPROBE_ACCESSOR(loop);
/* Bit (1 << tier) for each tier compiled into this object. */
const volatile __u32 bpfprobe_compiled_loop __weak =
    __BPFPROBE_LOOP_HAS_ITER | __BPFPROBE_LOOP_HAS_CALLBACK | (1u << BPFPROBE_LOOP_UNROLLED);

typedef long (*bpfprobe_loop_fn)(__u64 index, void* ctx);

static __always_inline __u32 bpfprobe__loop_tier(void) {
  __u32 tier = BPFPROBE_TIER(loop);
  if (tier != BPFPROBE_TIER_AUTO) return tier;
#ifndef BPFPROBE_LOOP_NO_ITER
  if (bpf_ksym_exists(bpf_iter_num_new)) return BPFPROBE_LOOP_ITER;
#endif
#ifndef BPFPROBE_LOOP_NO_CALLBACK
  if (bpfprobe_helper_exists(loop)) return BPFPROBE_LOOP_CALLBACK;
#endif
  return BPFPROBE_LOOP_UNROLLED;
}

static __always_inline long bpfprobe_loop(__u32 n, bpfprobe_loop_fn fn, void* ctx) {
  __u32 tier = bpfprobe__loop_tier();
  if (n > BPFPROBE_LOOP_MAX) return -BPFPROBE_E2BIG;
#ifndef BPFPROBE_LOOP_NO_ITER
  if (tier == BPFPROBE_LOOP_ITER) {
    long calls = 0;
    int i;
    bpf_for(i, 0, n) {
      calls++;
      if (fn(i, ctx)) break;
    }
    return calls;
  }
#endif
#ifndef BPFPROBE_LOOP_NO_CALLBACK
  if (tier == BPFPROBE_LOOP_CALLBACK) return bpf_loop(n, fn, ctx, 0);
#endif
  if (tier == BPFPROBE_LOOP_UNROLLED) {
    long calls = 0;
    if (n > BPFPROBE_LOOP_UNROLL_MAX) return -BPFPROBE_E2BIG;
#pragma unroll
    for (__u32 i = 0; i < BPFPROBE_LOOP_UNROLL_MAX; i++) {
      /* No early break on i >= n: with one, clang 14 leaves the loop rolled. */
      if (i < n) {
        calls++;
        if (fn(i, ctx)) break;
      }
    }
    return calls;
  }
  BPFPROBE_UNAVAILABLE(loop);
  return 0;
}

#endif /* BPFPROBE_COMPAT_LOOPS_BPF_H */
