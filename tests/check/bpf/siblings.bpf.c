// One hook twice: an fentry program and a kprobe fallback on the same function, as tools ship them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

int hits = 0;

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_fentry) {
  __sync_fetch_and_add(&hits, 1);
  return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_kprobe) {
  __sync_fetch_and_add(&hits, 1);
  return 0;
}
