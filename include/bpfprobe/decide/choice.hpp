// The attach-path choice for one hook: every candidate path in preference order with the verdict
// that rules it in or out, and the path chosen (the first supported one).
#pragma once

#include <bpfprobe/probe/report.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe::decide {

// The data model lives with the report (probe/report.hpp); this layer computes it.
using candidate = attach_candidate;
using choice = attach_choice;

// One required fact and its verdict.
struct requirement {
  std::string key;
  verdict v;
};

// A candidate is supported when all it needs is; unsupported as soon as one need is; unknown
// otherwise. The first deciding need gives the reason, prefixed by its key.
inline verdict combine(const std::vector<requirement>& needs) {
  const requirement* unknown = nullptr;
  for (const auto& r : needs) {
    if (r.v.state == status::unsupported) {
      verdict v = r.v;
      v.reason = r.key + ": " + (r.v.reason.empty() ? "unsupported" : r.v.reason);
      return v;
    }
    if (r.v.state == status::unknown && !unknown) unknown = &r;
  }
  if (unknown) {
    verdict v = unknown->v;
    v.reason = unknown->key + ": " + (unknown->v.reason.empty() ? "unknown" : unknown->v.reason);
    return v;
  }
  std::string reason;
  for (const auto& r : needs) reason += (reason.empty() ? "" : ", ") + r.key;
  verdict v = verdict::yes(reason.empty() ? std::string("nothing required") : reason + " supported");
  if (!needs.empty()) v.evidence = needs.back().v.reason.empty() ? needs.back().v.evidence : needs.back().v.reason;
  return v;
}

inline std::string first_supported(const std::vector<candidate>& cs) {
  for (const auto& c : cs)
    if (c.v.supported()) return c.path;
  return {};
}

}  // namespace bpfprobe::decide
