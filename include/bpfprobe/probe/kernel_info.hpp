// What a report says about the kernel it ran on (catalog/system.hpp reads these).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace bpfprobe::probe {

struct kernel_info {
  std::string release;
  std::string btf;  // path, or empty when none
  std::optional<int> unprivileged_bpf_disabled, jit_enable, jit_harden, jit_kallsyms;
  std::optional<long long> jit_limit;
  std::string lockdown;  // "" when unknown
  std::string config_source;
};

struct kernel_config {
  std::string source;  // file it came from; empty when none was found
  std::map<std::string, std::string> values;
};

// Kernel config options bpftool reports (the first bpftool_config_options, in bpftool's order), and
// a few more that decide BPF features.
inline constexpr std::size_t bpftool_config_options = 33;
inline constexpr const char* config_options[] = {
    "CONFIG_BPF",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_HAVE_EBPF_JIT",
    "CONFIG_BPF_JIT",
    "CONFIG_BPF_JIT_ALWAYS_ON",
    "CONFIG_DEBUG_INFO_BTF",
    "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CGROUPS",
    "CONFIG_CGROUP_BPF",
    "CONFIG_CGROUP_NET_CLASSID",
    "CONFIG_SOCK_CGROUP_DATA",
    "CONFIG_BPF_EVENTS",
    "CONFIG_KPROBE_EVENTS",
    "CONFIG_UPROBE_EVENTS",
    "CONFIG_TRACING",
    "CONFIG_FTRACE_SYSCALLS",
    "CONFIG_FUNCTION_ERROR_INJECTION",
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "CONFIG_NET",
    "CONFIG_XDP_SOCKETS",
    "CONFIG_LWTUNNEL_BPF",
    "CONFIG_NET_ACT_BPF",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_NET_CLS_ACT",
    "CONFIG_NET_SCH_INGRESS",
    "CONFIG_XFRM",
    "CONFIG_IP_ROUTE_CLASSID",
    "CONFIG_IPV6_SEG6_BPF",
    "CONFIG_BPF_LIRC_MODE2",
    "CONFIG_BPF_STREAM_PARSER",
    "CONFIG_NETFILTER_XT_MATCH_BPF",
    "CONFIG_TEST_BPF",
    "CONFIG_HZ",
    "CONFIG_BPF_LSM",
    "CONFIG_FPROBE",
    "CONFIG_KPROBES",
    "CONFIG_NETKIT",
    "CONFIG_SECURITY_LOCKDOWN_LSM",
    "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
    "CONFIG_BPF_UNPRIV_DEFAULT_OFF",
};

}  // namespace bpfprobe::probe
