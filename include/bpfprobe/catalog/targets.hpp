// The one list of what probes attach to: raw tracepoints, tracefs events and kernel functions, each
// in order of preference (the first one the running kernel has is used). Link probes, attach
// mechanisms, program-type/helper/kfunc set-ups and the tests that cross-check them all read these.
#pragma once

#include <array>
#include <string_view>

namespace bpfprobe::probe::targets {

// Raw tracepoints that fire rarely (a link on them costs nothing), as btf_trace_<name> typedefs when
// there is BTF. sys_enter exists in every kernel with syscall tracepoints.
inline constexpr std::array<const char*, 3> quiet_raw_tracepoints{"task_rename", "sched_process_free", "sys_enter"};

// Raw tracepoints whose btf_trace_<name> typedef a tp_btf program is loaded on (only loaded, never
// attached, so how often they fire does not matter).
inline constexpr std::array<const char*, 3> tp_btf_tracepoints{"sched_switch", "sys_enter", "task_newtask"};

// tracefs events (category, name) for perf-event tracepoint attaches.
struct tracefs_event {
  const char* category;
  const char* name;
};
inline constexpr std::array<tracefs_event, 4> perf_tracepoints{{{"task", "task_rename"},
                                                                {"syscalls", "sys_enter_getpid"},
                                                                {"sched", "sched_process_free"},
                                                                {"raw_syscalls", "sys_enter"}}};

// Kernel functions fentry/fexit/kprobe probes attach to. bpf_fentry_test1 and bpf_modify_return_test
// exist for BPF selftests (5.5, 5.7); vfs_read is the fallback every kernel has.
inline constexpr std::array<const char*, 3> kernel_functions{"bpf_fentry_test1", "bpf_modify_return_test", "vfs_read"};
// fmod_ret needs a security_* function or one on the error-injection list (check_attach_modify_return,
// 5.7). bpf_modify_return_test is on that list only with CONFIG_FUNCTION_ERROR_INJECTION, which Debian
// kernels do not set (newer kernels register it in an fmodret kfunc set), so a security_ function
// comes first: security_settime64, rarely called, for the moment the probe's link is attached.
inline constexpr std::array<const char*, 2> modify_return_functions{"security_settime64", "bpf_modify_return_test"};

// Syscall entry functions on the sleepable allow-list (error injection), for sleepable fentry.
inline constexpr std::array<const char*, 2> sleepable_functions{"__x64_sys_getpgid", "__arm64_sys_getpgid"};

// LSM hooks for BPF_LSM_MAC programs, and for lsm_cgroup links (hooks with a socket argument).
inline constexpr std::array<const char*, 2> lsm_hooks{"bpf_lsm_file_open", "bpf_lsm_bpf"};
inline constexpr std::array<const char*, 2> lsm_cgroup_hooks{"bpf_lsm_socket_bind", "bpf_lsm_socket_post_create"};

}  // namespace bpfprobe::probe::targets
