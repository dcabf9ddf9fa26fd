// Which capability a refused program load wanted. BPF_PROG_LOAD (kernel/bpf/syscall.c,
// bpf_prog_load) asks for CAP_BPF (or CAP_SYS_ADMIN) for every type but socket_filter and
// cgroup_skb, and then CAP_NET_ADMIN for network and cgroup types (is_net_admin_prog_type) or
// CAP_PERFMON for tracing types (is_perfmon_prog_type); CAP_SYS_ADMIN stands in for both (5.8,
// 2c78ee898d8f). From the type's class and this process's effective capabilities the EPERM of a
// load gets a reason that names what was missing.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bpfprobe/probe/context.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::probe {

// The calling thread's effective capabilities (capget: a cheap call, made for every refused-load
// verdict); nullopt when the kernel does not answer.
inline std::optional<std::uint64_t> effective_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &hdr, data) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(data[0].effective) | (static_cast<std::uint64_t>(data[1].effective) << 32);
}

// Program types whose load needs CAP_NET_ADMIN besides CAP_BPF (netfilter from 6.4, 84601d6ee68a).
inline bool net_admin_prog_type(std::string_view t) {
  static constexpr std::array<std::string_view, 18> names = {
      "sched_cls",        "sched_act",      "xdp",           "lwt_in",         "lwt_out",       "lwt_xmit",
      "lwt_seg6local",    "sk_skb",         "sk_msg",        "flow_dissector", "cgroup_device", "cgroup_sock",
      "cgroup_sock_addr", "cgroup_sockopt", "cgroup_sysctl", "sock_ops",       "ext",           "netfilter"};
  return std::find(names.begin(), names.end(), t) != names.end();
}

// Program types whose load needs CAP_PERFMON besides CAP_BPF.
inline bool perfmon_prog_type(std::string_view t) {
  static constexpr std::array<std::string_view, 9> names = {
      "kprobe", "tracepoint", "perf_event", "raw_tracepoint", "raw_tracepoint_writable", "tracing",
      "lsm",    "struct_ops", "ext"};
  return std::find(names.begin(), names.end(), t) != names.end();
}

// How load_permission_reason says that no capability was missing (check/taxonomy.hpp tells the
// machine's policy from the process's privilege by it).
inline constexpr std::string_view every_capability_held = "although this process has every capability";

// The EPERM reason for loading a program of `type` with effective capabilities `caps`; empty when
// they are unknown.
inline std::string load_permission_reason(std::string_view type, std::optional<std::uint64_t> caps) {
  if (!caps) return {};
  auto has = [&](int cap) { return ((*caps >> cap) & 1) != 0; };
  bool admin = has(CAP_SYS_ADMIN);
  bool unpriv_type = type == "socket_filter" || type == "cgroup_skb";
  std::vector<std::string> missing;
  if (!unpriv_type && !admin && !has(CAP_BPF)) missing.push_back("CAP_BPF");
  if (net_admin_prog_type(type) && !admin && !has(CAP_NET_ADMIN)) missing.push_back("CAP_NET_ADMIN");
  if (perfmon_prog_type(type) && !admin && !has(CAP_PERFMON)) missing.push_back("CAP_PERFMON");
  if (missing.empty()) {
    if (!unpriv_type || admin || has(CAP_BPF))
      return "not permitted (EPERM) " + std::string(every_capability_held) + " the kernel asks for to load " +
             std::string(type) + ": refused by lockdown or an LSM";
    auto sysctl = read_text("/proc/sys/kernel/unprivileged_bpf_disabled");
    if (!sysctl || *sysctl == "0") return {};
    return "not permitted (EPERM): unprivileged BPF is disabled (kernel.unprivileged_bpf_disabled=" + *sysctl +
           "), and this process has neither CAP_BPF nor CAP_SYS_ADMIN";
  }
  std::string list;
  for (std::size_t i = 0; i < missing.size(); ++i)
    list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
  return "not permitted (EPERM): the kernel wants " + list + " (or CAP_SYS_ADMIN) to load program type " +
         std::string(type) + ", and this process lacks " + (missing.size() == 1 ? "it" : "them");
}

// Rules for a load of `type`: EPERM names the capability the kernel wanted, when one was missing.
inline classify::rules load_rules(const context& ctx, std::string_view type, classify::rules r = {}) {
  r = ctx.rules(std::move(r));
  r.permission_reason = load_permission_reason(type, effective_caps());
  return r;
}

}  // namespace bpfprobe::probe
