// The tier each compat accessor gets on this kernel, without an object: the "compat" section of the
// report (`bpfprobe --json`) and of the matrix grid. Each accessor is judged for one program type
// where it is typically used (an object's own types may differ: configure() judges those).
#pragma once

#include <bpfprobe/compat/configure.hpp>
#include <bpfprobe/report/model.hpp>
#include <vector>

namespace bpfprobe::compat {

// Tracing accessors are judged for kprobe programs (they read pt_regs); the rest for raw
// tracepoints, which every kernel with BPF has and BPF_PROG_TEST_RUN can run.
[[nodiscard]] inline std::string_view typical_prog_type(std::string_view accessor) {
  if (accessor.starts_with("func_ip_") || accessor == "attach_cookie") return "kprobe";
  return "raw_tracepoint";
}

// One entry per accessor: every tier best first with its verdict, the first supported one chosen.
inline std::vector<compat_accessor> report_tiers(prober& p) {
  std::vector<compat_accessor> out;
  kernel_checks checks(p);
  for (const auto& a : accessors()) {
    compat_accessor c{std::string(a.name), std::string(typical_prog_type(a.name)), {}, {}};
    for (const auto& t : a.tiers) {
      verdict v = detail::tier_verdict(checks, t, {c.prog_type});
      if (c.tier.empty() && v.supported()) c.tier = std::string(t.name);
      c.tiers.emplace_back(std::string(t.name), std::move(v));
    }
    if (c.tier.empty()) c.tier = std::string(tier_name_unavailable);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bpfprobe::compat
