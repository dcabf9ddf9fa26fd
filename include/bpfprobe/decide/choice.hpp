// The attach-path choice for one hook: every candidate path in preference order with the verdict
// that rules it in or out, and the path chosen (the first supported one).
#pragma once

#include <bpfprobe/report/model.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe::decide {

// The data model lives with the report (report/model.hpp); this layer computes it.
using candidate = attach_candidate;
using choice = attach_choice;

// One required fact and its verdict.
struct requirement {
  std::string key;
  verdict v;
};

// The verdict of a list of needs that is not supported: the first unsupported need, else the first
// unknown one, its reason prefixed by its key (`key_of`). nullopt when every need is supported.
template <class Need, class KeyOf>
std::optional<verdict> first_unmet(const std::vector<Need>& needs, KeyOf key_of) {
  const Need* unknown = nullptr;
  for (const auto& n : needs) {
    if (n.v.state == status::unsupported) {
      verdict v = n.v;
      v.reason = key_of(n) + ": " + (n.v.reason.empty() ? "unsupported" : n.v.reason);
      return v;
    }
    if (n.v.state == status::unknown && !unknown) unknown = &n;
  }
  if (!unknown) return std::nullopt;
  verdict v = unknown->v;
  v.reason = key_of(*unknown) + ": " + (unknown->v.reason.empty() ? "unknown" : unknown->v.reason);
  return v;
}

// A candidate is supported when all it needs is; unsupported as soon as one need is; unknown
// otherwise. The first deciding need gives the reason, prefixed by its key.
inline verdict combine(const std::vector<requirement>& needs) {
  if (auto unmet = first_unmet(needs, [](const requirement& r) { return r.key; })) return *unmet;
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
