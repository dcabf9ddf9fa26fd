// One program per map type, all maps in one object (libbpf creates every map before any program).
#include "corpus.h"

#define MAP(kind, name, k, v, n) \
  struct {                       \
    __uint(type, kind);          \
    __uint(max_entries, n);      \
    __type(key, k);              \
    __type(value, v);            \
  } name SEC(".maps")

MAP(BPF_MAP_TYPE_HASH, m_hash, __u32, __u64, 64);
MAP(BPF_MAP_TYPE_ARRAY, m_array, __u32, __u64, 64);
MAP(BPF_MAP_TYPE_PERCPU_HASH, m_pcpu_hash, __u32, __u64, 64);
MAP(BPF_MAP_TYPE_LRU_HASH, m_lru, __u32, __u64, 64);
MAP(BPF_MAP_TYPE_LRU_PERCPU_HASH, m_lru_pcpu, __u32, __u64, 64);
MAP(BPF_MAP_TYPE_CGROUP_ARRAY, m_cgarray, __u32, __u32, 4);
MAP(BPF_MAP_TYPE_DEVMAP_HASH, m_devhash, __u32, __u32, 4);
MAP(BPF_MAP_TYPE_CPUMAP, m_cpumap, __u32, struct bpf_cpumap_val, 4);
MAP(BPF_MAP_TYPE_XSKMAP, m_xsk, __u32, __u32, 4);
MAP(BPF_MAP_TYPE_SOCKHASH, m_sockhash, __u32, __u64, 4);
MAP(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, m_reuseport, __u32, __u64, 4);

struct lpm_key {
  __u32 prefixlen;
  __u32 addr;
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 16);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct lpm_key);
  __type(value, __u32);
} m_lpm SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 16);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, 8 * sizeof(__u64));
} m_stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} m_perf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} m_ringbuf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} m_user_ringbuf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 64);
  __type(value, __u32);
  __uint(map_extra, 3);
} m_bloom SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_QUEUE);
  __uint(max_entries, 8);
  __type(value, __u32);
} m_queue SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK);
  __uint(max_entries, 8);
  __type(value, __u32);
} m_stack SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} m_task_st SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_INODE_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} m_inode_st SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} m_sk_st SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} m_cgrp_st SEC(".maps");

struct inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} m_inner0 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner);
} m_hash_of_maps SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, struct inner);
} m_array_of_maps SEC(".maps") = {.values = {[0] = &m_inner0}};

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} m_progs SEC(".maps");

SEC("kprobe/vfs_read")
int use_hash(void* ctx) {
  __u32 k = 1;
  __u64 v = 2;
  return bpf_map_update_elem(&m_hash, &k, &v, BPF_ANY);
}

SEC("kprobe/vfs_read")
int use_array(void* ctx) {
  __u32 k = 3;
  __u64* v = bpf_map_lookup_elem(&m_array, &k);
  return v ? (int)*v : 0;
}

SEC("kprobe/vfs_read")
int use_pcpu_hash(void* ctx) {
  __u32 k = 1;
  return bpf_map_delete_elem(&m_pcpu_hash, &k);
}

SEC("kprobe/vfs_read")
int use_lru(void* ctx) {
  __u32 k = 1;
  __u64 v = 1;
  bpf_map_update_elem(&m_lru, &k, &v, BPF_NOEXIST);
  return bpf_map_update_elem(&m_lru_pcpu, &k, &v, BPF_ANY);
}

SEC("socket")
int use_lpm(struct __sk_buff* skb) {
  struct lpm_key k = {.prefixlen = 32, .addr = skb->remote_ip4};
  return bpf_map_lookup_elem(&m_lpm, &k) != 0;
}

SEC("kprobe/vfs_read")
int use_stacks(void* ctx) { return bpf_get_stackid(ctx, &m_stacks, 0) < 0; }

SEC("tp/sched/sched_switch")
int use_perf(void* ctx) {
  __u64 v = 1;
  return bpf_perf_event_output(ctx, &m_perf, BPF_F_CURRENT_CPU, &v, sizeof(v));
}

SEC("tp/sched/sched_switch")
int use_ringbuf(void* ctx) {
  __u64* e = bpf_ringbuf_reserve(&m_ringbuf, sizeof(*e), 0);
  if (!e) return 0;
  *e = bpf_ktime_get_ns();
  bpf_ringbuf_submit(e, 0);
  return 0;
}

// A reserved record must be submitted or discarded: leaking it is refused.
SEC("tp/sched/sched_switch")
int use_ringbuf_leak(void* ctx) {
  __u64* e = bpf_ringbuf_reserve(&m_ringbuf, sizeof(*e), 0);
  if (!e) return 0;
  *e = 1;
  return 0;
}

static long drain_one(struct bpf_dynptr* p, void* ctx) { return 0; }

SEC("fentry/do_nanosleep")
int use_user_ringbuf(void* ctx) { return bpf_user_ringbuf_drain(&m_user_ringbuf, drain_one, 0, 0); }

SEC("kprobe/vfs_read")
int use_bloom(void* ctx) {
  __u32 v = 42;
  bpf_map_push_elem(&m_bloom, &v, 0);
  return bpf_map_peek_elem(&m_bloom, &v) == 0;
}

SEC("kprobe/vfs_read")
int use_queue_stack(void* ctx) {
  __u32 v = 1;
  bpf_map_push_elem(&m_queue, &v, 0);
  bpf_map_pop_elem(&m_stack, &v);
  return v;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(use_task_storage, struct task_struct* parent, struct task_struct* child) {
  __u64* v = bpf_task_storage_get(&m_task_st, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (v) *v = 1;
  return 0;
}

SEC("lsm/file_open")
int BPF_PROG(use_inode_storage, struct file* f) {
  __u64* v = bpf_inode_storage_get(&m_inode_st, f->f_inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  return v ? 0 : 0;
}

SEC("cgroup_skb/egress")
int use_sk_storage(struct __sk_buff* skb) {
  struct bpf_sock* sk = skb->sk;
  if (!sk) return 1;
  sk = bpf_sk_fullsock(sk);
  if (!sk) return 1;
  __u64* v = bpf_sk_storage_get(&m_sk_st, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (v) *v += 1;
  return 1;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(use_cgrp_storage, struct task_struct* parent, struct task_struct* child) {
  struct task_struct* t = bpf_get_current_task_btf();
  __u64* v = bpf_cgrp_storage_get(&m_cgrp_st, t->cgroups->dfl_cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  return v ? 0 : 1;
}

SEC("kprobe/vfs_read")
int use_map_in_map(void* ctx) {
  __u32 k = 0;
  void* inner = bpf_map_lookup_elem(&m_array_of_maps, &k);
  if (!inner) inner = bpf_map_lookup_elem(&m_hash_of_maps, &k);
  if (!inner) return 0;
  return bpf_map_lookup_elem(inner, &k) != 0;
}

SEC("kprobe/vfs_read")
int use_tail_call(void* ctx) {
  bpf_tail_call(ctx, &m_progs, 0);
  return 0;
}

SEC("xdp")
int use_xsk_cpumap(struct xdp_md* ctx) {
  if (ctx->rx_queue_index == 1) return bpf_redirect_map(&m_xsk, 1, XDP_PASS);
  if (ctx->rx_queue_index == 2) return bpf_redirect_map(&m_devhash, 1, XDP_PASS);
  return bpf_redirect_map(&m_cpumap, 0, XDP_PASS);
}

SEC("kprobe/vfs_read")
int use_cgarray(void* ctx) { return bpf_current_task_under_cgroup(&m_cgarray, 0); }

SEC("sk_msg")
int use_sockhash(struct sk_msg_md* msg) {
  __u32 k = 0;
  return bpf_msg_redirect_hash(msg, &m_sockhash, &k, 0);
}

SEC("sk_reuseport")
int use_reuseport(struct sk_reuseport_md* md) {
  __u32 k = 0;
  bpf_sk_select_reuseport(md, &m_reuseport, &k, 0);
  return SK_PASS;
}

// Map helpers on map types they do not fit: a stack trace map is not a hash.
SEC("kprobe/vfs_read")
int wrong_map_for_helper(void* ctx) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&m_stacks, &k) != 0;
}

// bpf_ringbuf_output on a perf event array is refused.
SEC("kprobe/vfs_read")
int ringbuf_helper_on_perf(void* ctx) {
  __u64 v = 1;
  return bpf_ringbuf_output(&m_perf, &v, sizeof(v), 0);
}

// Task storage from a socket filter: the helper is not available there.
SEC("socket")
int task_storage_in_socket(struct __sk_buff* skb) {
  return bpf_task_storage_get(&m_task_st, 0, 0, 0) != 0;
}
