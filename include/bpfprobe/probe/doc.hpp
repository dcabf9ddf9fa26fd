// Documentation attached to a probe: the first upstream kernel that has the feature and the commit
// that added it. Used for the report and the matrix expectations, never to decide a verdict.
#pragma once

#include <span>
#include <string_view>

namespace bpfprobe::probe {

struct doc {
  std::string_view name;
  std::string_view first_kernel;  // "4.8"; empty when not recorded
  std::string_view commit;        // 12-hex upstream commit; empty when not recorded
};

inline const doc* find_doc(std::span<const doc> table, std::string_view name) {
  for (const auto& d : table)
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace bpfprobe::probe
