// Shared by the corpus sources: vmlinux.h without its kfunc prototypes (each source declares the
// kfuncs it calls itself, weak or strong on purpose), libbpf's BPF-side headers and the licence.
#ifndef CORPUS_H
#define CORPUS_H
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// A per-CPU scratch counter most programs touch, so that they do something observable.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");

static __always_inline void count(void) {
  __u32 k = 0;
  __u64* v = bpf_map_lookup_elem(&hits, &k);
  if (v) *v += 1;
}
#endif
