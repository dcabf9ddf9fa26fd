// Several programs per section, as tools that keep one handler per protocol do.
#include "corpus.h"

#define XDP_PROG(name, verdict) \
  SEC("xdp")                    \
  int name(struct xdp_md* ctx) { return ctx->rx_queue_index > 64 ? XDP_DROP : verdict; }

XDP_PROG(xdp_multi_a, XDP_PASS)
XDP_PROG(xdp_multi_b, XDP_PASS)
XDP_PROG(xdp_multi_c, XDP_TX)
XDP_PROG(xdp_multi_d, XDP_ABORTED)

#define TP_PROG(name)             \
  SEC("tp/sched/sched_switch")    \
  int name(void* ctx) {           \
    count();                      \
    return 0;                     \
  }

TP_PROG(tp_multi_a)
TP_PROG(tp_multi_b)
TP_PROG(tp_multi_c)

#define KP_PROG(name, fn)  \
  SEC("kprobe/" #fn)       \
  int name(void* ctx) {    \
    count();               \
    return 0;              \
  }

KP_PROG(kp_multi_read, vfs_read)
KP_PROG(kp_multi_write, vfs_write)
KP_PROG(kp_multi_open, do_sys_openat2)
KP_PROG(kp_multi_unlink, do_unlinkat)
KP_PROG(kp_multi_exit, do_exit)

SEC("tc")
int tc_multi_a(struct __sk_buff* skb) { return 0; }
SEC("tc")
int tc_multi_b(struct __sk_buff* skb) { return skb->protocol == 8 ? 0 : 2; }

// The same kind in one section where one of them is broken: only that one fails.
SEC("tc")
int tc_multi_broken(struct __sk_buff* skb) { return *(int*)(long)skb->data; }
