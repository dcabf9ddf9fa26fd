// A second compilation unit, linked with task.bpf.c into one object (compat_linked): both define
// the weak tier flags, and the linker keeps one of each, so both units read the same value.
//
// This unit calls no accessor: every accessor references an extern kfunc (at least its "unavailable"
// marker), and libbpf's linker before commit 4b146e95da87 (libbpf 1.6; bookworm's bpftool 7.5 carries
// libbpf 1.5) fails on an extern function declared in two units ("failed to resolve size of
// underlying type"). With a newer bpftool both units may call the same accessors.
#include <bpfprobe/compat/task.bpf.h>

__u32 extra_seen_tier;

SEC("raw_tp")
int linked_extra(void* ctx) {
  extra_seen_tier = BPFPROBE_TIER(current_task);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
