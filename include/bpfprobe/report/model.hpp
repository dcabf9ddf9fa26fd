// The data model of a full report: the sections of facts (probe/fact.hpp), the compat tiers and the
// attach-path choices.
#pragma once

#include <bpfprobe/probe/fact.hpp>
#include <bpfprobe/probe/kernel_info.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe {

// The tier a compat accessor gets here (compat/report.hpp, bpf/bpfprobe/compat.bpf.h): its tiers
// best first, each with its verdict for the program type it was judged for.
struct compat_accessor {
  std::string name;       // "dynptr_size"
  std::string prog_type;  // "raw_tracepoint"
  std::string tier;       // the first supported tier, or "unavailable"
  std::vector<std::pair<std::string, verdict>> tiers;
};

// One attach path of a hook with the verdict that rules it in or out (decide/ computes these).
struct attach_candidate {
  std::string path;                // "bpf_link", "netlink", "tcx", "perf_ioctl", ...
  verdict v;                       // supported / unsupported / unknown, with the reason
  std::vector<std::string> needs;  // the facts it was computed from ("link:xdp", "prog:xdp", ...)
};

// The attach-path choice for one hook: candidates in preference order, the first supported chosen.
struct attach_choice {
  std::string hook;                                        // "xdp", "tc", "cgroup", "kprobe", ...
  std::vector<attach_candidate> candidates;                // best first
  std::string chosen;                                      // empty when no candidate is supported
  std::vector<std::pair<std::string, std::string>> attrs;  // hook options (event_source, target, ...)

  [[nodiscard]] const attach_candidate* find(std::string_view path) const {
    for (const auto& c : candidates)
      if (c.path == path) return &c;
    return nullptr;
  }
  [[nodiscard]] const std::string* attr(std::string_view key) const {
    for (const auto& [k, v] : attrs)
      if (k == key) return &v;
    return nullptr;
  }
};

struct report {
  probe::kernel_info kernel;
  probe::kernel_config config_values;
  std::string names_source;  // where prog/map/helper names came from
  bool names_from_btf = false;
  // How the kfuncs section was listed: "bpf_kfunc decl tags" or "load probes" (no tags), and how many
  // candidates no load probe could decide (listed nowhere; 0 with tags).
  std::string kfunc_list_source;
  std::size_t kfuncs_undecided = 0;
  std::string kfuncs_undecided_reason;
  section program_types, map_types, misc, config;
  std::vector<std::pair<std::string, section>> helpers;  // per program type
  // Further sections (kfuncs, links, dynptr, iterators, attach, ...) in the order they print.
  std::vector<std::pair<std::string, section>> more;
  // The "compat" section: per accessor of the BPF compat layer, the tier it gets (compat::report_tiers).
  std::vector<compat_accessor> compat;
  // The "attach" section: per hook the chosen path and every candidate (decide::all fills it).
  std::vector<attach_choice> attach;
};

}  // namespace bpfprobe
