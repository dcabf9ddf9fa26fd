/* Result records the compat test programs fill and the tests read, shared by both sides. */
#ifndef BPFPROBE_TESTS_COMPAT_RESULTS_H
#define BPFPROBE_TESTS_COMPAT_RESULTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

struct dynptr_result {
  __u32 size;
  __u32 offset;
  __u32 type;
  __u8 is_rdonly;
  __u8 is_null;
  __u8 adjusted; /* bpf_dynptr_adjust() was applied */
  __u8 ran;      /* the dynptr could be made on this kernel */
};

struct task_result {
  __s32 pid;
  __s32 tgid;
  __s32 parent_tgid;
  __s32 read_pid; /* bpf_get_current_task() + bpfprobe_core_read of ->pid */
  __s64 read_err;
  __u64 boot_ns;
  __u8 ran;
};

struct loop_result {
  __s64 calls;
  __u64 sum;
  __u8 ran;
};

struct output_record {
  __u64 magic;
  __u32 tgid;
  __u32 seq;
};
#define OUTPUT_MAGIC 0x6270667072626521ull

struct trace_result {
  __u64 func_ip;
  __u64 cookie;
  __u32 hits;
};

#endif
