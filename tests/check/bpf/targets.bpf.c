// Trampoline programs whose targets are in BTF but that the verifier may still refuse
// (tests/check/check_test.cpp, Check.TrampolineTargets*): a function without an address, fmod_ret on
// functions that may and may not be modified, sleepable fentry on and off the error-injection list.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// An __exit function of built-in code: kept in BTF, discarded from the image (no kallsyms entry).
SEC("fentry/firmware_class_exit")
int BPF_PROG(no_address) { return 0; }

SEC("fmod_ret/security_file_open")
int BPF_PROG(modify_security_hook) { return 0; }

SEC("fmod_ret/do_unlinkat")
int BPF_PROG(modify_plain_function) { return 0; }

SEC("fmod_ret/should_failslab")
int BPF_PROG(modify_error_injectable) { return 0; }

SEC("fentry.s/__x64_sys_getpid")
int BPF_PROG(sleepable_on_syscall) { return 0; }

SEC("fentry.s/do_unlinkat")
int BPF_PROG(sleepable_on_plain_function) { return 0; }
