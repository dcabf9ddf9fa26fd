// Bounded loops (5.3), bpf_loop callbacks (5.17), global functions (5.6), open-coded iterators
// (6.4) and loops the verifier cannot bound.
#include "corpus.h"

extern int bpf_iter_num_new(struct bpf_iter_num* it, int start, int end) __ksym;
extern int* bpf_iter_num_next(struct bpf_iter_num* it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num* it) __ksym;

volatile int limit = 10;

SEC("socket")
int loop_bounded(struct __sk_buff* skb) {
  int sum = 0;
  for (int i = 0; i < 64; i++) sum += i ^ skb->len;
  return sum;
}

SEC("socket")
int loop_unrolled(struct __sk_buff* skb) {
  int sum = 0;
#pragma unroll
  for (int i = 0; i < 16; i++) sum += i * skb->len;
  return sum;
}

// Bound read from a global the program may change: the verifier walks it up to its limit.
SEC("socket")
int loop_global_bound(struct __sk_buff* skb) {
  int sum = 0;
  int n = limit;
  if (n > 100) n = 100;
  for (int i = 0; i < n; i++) sum += i;
  return sum;
}

static long loop_cb(__u32 i, void* ctx) {
  count();
  return i > 5;
}

SEC("kprobe/vfs_read")
int loop_bpf_loop(void* ctx) { return bpf_loop(100, loop_cb, 0, 0); }

SEC("xdp")
int loop_bpf_loop_xdp(struct xdp_md* ctx) {
  bpf_loop(8, loop_cb, 0, 0);
  return XDP_PASS;
}

__noinline int global_sum(int n) {
  int s = 0;
  for (int i = 0; i < 16 && i < n; i++) s += i;
  return s;
}

SEC("socket")
int loop_global_func(struct __sk_buff* skb) { return global_sum(skb->len); }

// A global function that dereferences its pointer argument without a NULL check.
__noinline int global_deref(int* p) { return *p; }

SEC("socket")
int global_func_bad_arg(struct __sk_buff* skb) {
  int x = 3;
  return global_deref(&x);
}

__noinline int global_deref_checked(int* p) { return p ? *p : 0; }

SEC("socket")
int global_func_checked_arg(struct __sk_buff* skb) {
  int x = 3;
  return global_deref_checked(&x);
}

SEC("tp_btf/sched_switch")
int loop_iter_num(void* ctx) {
  struct bpf_iter_num it;
  int* v;
  int sum = 0;
  bpf_iter_num_new(&it, 0, 10);
  while ((v = bpf_iter_num_next(&it))) sum += *v;
  bpf_iter_num_destroy(&it);
  return sum;
}

// Open-coded iterator that is never destroyed.
SEC("tp_btf/sched_switch")
int loop_iter_num_leak(void* ctx) {
  struct bpf_iter_num it;
  bpf_iter_num_new(&it, 0, 10);
  return bpf_iter_num_next(&it) != 0;
}

static __noinline int static_sub(int x) { return x * 3; }

SEC("socket")
int loop_static_subprog(struct __sk_buff* skb) { return static_sub(skb->len); }
