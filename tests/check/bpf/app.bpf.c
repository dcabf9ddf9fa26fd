// Programs that load on every kernel of the matrix (5.10+): common program types, a ring buffer,
// read-only globals and CO-RE reads of fields every kernel has.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target_pid = 0;
int counter = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, u32);
  __type(value, u64);
} counts SEC(".maps");

static __always_inline int emit(u32 value) {
  u32* slot = bpf_ringbuf_reserve(&events, sizeof(u32), 0);
  if (!slot) return 0;
  *slot = value;
  bpf_ringbuf_submit(slot, 0);
  return 0;
}

SEC("socket")
int app_socket(struct __sk_buff* skb) { return skb->len > 0; }

SEC("xdp")
int app_xdp(struct xdp_md* ctx) { return XDP_PASS; }

SEC("tc")
int app_tc(struct __sk_buff* skb) { return 0; }

SEC("tracepoint/syscalls/sys_enter_openat")
int app_tracepoint(void* ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (target_pid && pid != (u32)target_pid) return 0;
  __sync_fetch_and_add(&counter, 1);
  return emit(pid);
}

SEC("raw_tp/sched_switch")
int app_raw_tp(void* ctx) {
  struct task_struct* t = (struct task_struct*)bpf_get_current_task();
  u32 pid = BPF_CORE_READ(t, pid);
  u64 one = 1, *v = bpf_map_lookup_elem(&counts, &pid);
  if (v) __sync_fetch_and_add(v, 1);
  else bpf_map_update_elem(&counts, &pid, &one, BPF_ANY);
  return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(app_kprobe) { return emit(BPF_CORE_READ((struct task_struct*)bpf_get_current_task(), tgid)); }

SEC("uprobe")
int app_uprobe(void* ctx) { return 0; }

SEC("perf_event")
int app_perf_event(void* ctx) { return emit(bpf_get_smp_processor_id()); }

SEC("cgroup_skb/ingress")
int app_cgroup_skb(struct __sk_buff* skb) { return 1; }
