/* Tier numbers shared by the BPF-side compat headers (bpf/bpfprobe/compat/, C for clang
 * -target bpf) and the C++ side (bpfprobe::compat::configure). Plain C on purpose: both sides include it.
 *
 * Each accessor owns one `const volatile __u32 bpfprobe_tier_<accessor>` in the program's .rodata.
 * 0 (AUTO) lets the program choose at load time with bpf_ksym_exists / bpf_core_*_exists; the C++
 * side writes a fixed tier chosen from probe verdicts before load, and the verifier then prunes every
 * other tier as dead code. Tier 1 is the best one. */
#ifndef BPFPROBE_COMPAT_TIERS_H
#define BPFPROBE_COMPAT_TIERS_H

#define BPFPROBE_TIER_VAR_PREFIX "bpfprobe_tier_"

#define BPFPROBE_TIER_AUTO 0
/* No tier works: reaching the accessor fails the load with libbpf's
 * "kfunc 'bpfprobe_unavailable__<accessor>' is referenced but wasn't resolved". */
#define BPFPROBE_TIER_UNAVAILABLE 255

/* dynptr_size, dynptr_offset, dynptr_is_rdonly, dynptr_is_null, dynptr_type */
#define BPFPROBE_DYNPTR_KFUNC 1      /* bpf_dynptr_size() & co (6.5); offset and type have none */
#define BPFPROBE_DYNPTR_CAST 2       /* bpf_rdonly_cast() to struct bpf_dynptr_kern + CO-RE reads (6.2) */
#define BPFPROBE_DYNPTR_PROBE_READ 3 /* bpf_probe_read_kernel() at CO-RE offsets */

/* current_task */
#define BPFPROBE_TASK_BTF 1        /* bpf_get_current_task_btf() (5.11) */
#define BPFPROBE_TASK_CAST 2       /* bpf_rdonly_cast(bpf_get_current_task()) (6.2) */
#define BPFPROBE_TASK_PROBE_READ 3 /* bpf_get_current_task() + bpf_probe_read_kernel() */

/* probe_read_kernel */
#define BPFPROBE_READ_KERNEL 1 /* bpf_probe_read_kernel() (5.5) */
#define BPFPROBE_READ_LEGACY 2 /* bpf_probe_read() */

/* ktime_boot */
#define BPFPROBE_KTIME_BOOT 1 /* bpf_ktime_get_boot_ns() (5.8): CLOCK_BOOTTIME */
#define BPFPROBE_KTIME_MONO 2 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, stops during suspend */

/* func_ip_kprobe, func_ip_uprobe */
#define BPFPROBE_FUNC_IP_HELPER 1 /* bpf_get_func_ip() (kprobe 5.15; uprobe 6.6, before it returns 0) */
#define BPFPROBE_FUNC_IP_REGS 2   /* the instruction pointer in pt_regs */

/* attach_cookie */
#define BPFPROBE_COOKIE_HELPER 1 /* bpf_get_attach_cookie() (5.15) */
#define BPFPROBE_COOKIE_MAP 2    /* hash map bpfprobe_cookies: function IP -> cookie, filled by user space */

/* loop */
#define BPFPROBE_LOOP_ITER 1     /* open-coded bpf_for() over bpf_iter_num (6.4) */
#define BPFPROBE_LOOP_CALLBACK 2 /* bpf_loop() (5.17) */
#define BPFPROBE_LOOP_UNROLLED 3 /* a loop clang unrolls, at most BPFPROBE_LOOP_UNROLL_MAX passes */

/* output */
#define BPFPROBE_OUTPUT_RINGBUF 1 /* BPF_MAP_TYPE_RINGBUF + bpf_ringbuf_output() (5.8) */
#define BPFPROBE_OUTPUT_PERF 2    /* BPF_MAP_TYPE_PERF_EVENT_ARRAY + bpf_perf_event_output() */

/* Map names the C++ side looks for (BPFPROBE_OUTPUT_MAP(name, ...) defines name__ringbuf, name__perf). */
#define BPFPROBE_OUTPUT_RINGBUF_SUFFIX "__ringbuf"
#define BPFPROBE_OUTPUT_PERF_SUFFIX "__perf"
#define BPFPROBE_COOKIE_MAP_NAME "bpfprobe_cookies"

#endif /* BPFPROBE_COMPAT_TIERS_H */
