// The report in the shape of `bpftool -j feature probe kernel`: the same sections and keys, so
// scripts written for bpftool switch unchanged. bpftool answers true/false; a fact bpfprobe could
// not decide (unknown) is null here, never false, and is left out of the helper lists.
#include <span>

#include "render.hpp"

namespace bpfprobe::cli {
namespace {

nlohmann::ordered_json decided(const fact* f) {
  if (!f || f->v.state == status::unknown) return nullptr;
  return f->v.supported();
}

template <class T>
nlohmann::ordered_json number_or_null(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

// bpftool's misc key -> bpfprobe's misc fact.
constexpr std::pair<const char*, const char*> bpftool_misc[] = {{"have_large_insn_limit", "large_insn_limit"},
                                                                {"have_bounded_loops", "bounded_loops"},
                                                                {"have_v2_isa_extension", "isa_v2"},
                                                                {"have_v3_isa_extension", "isa_v3"},
                                                                {"have_v4_isa_extension", "isa_v4"}};

}  // namespace

nlohmann::ordered_json to_bpftool_json(const report& r) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  nlohmann::ordered_json system = nlohmann::ordered_json::object();
  system["unprivileged_bpf_disabled"] = number_or_null(r.kernel.unprivileged_bpf_disabled);
  system["bpf_jit_enable"] = number_or_null(r.kernel.jit_enable);
  system["bpf_jit_harden"] = number_or_null(r.kernel.jit_harden);
  system["bpf_jit_kallsyms"] = number_or_null(r.kernel.jit_kallsyms);
  system["bpf_jit_limit"] = number_or_null(r.kernel.jit_limit);
  for (const char* option : std::span(probe::config_options, probe::bpftool_config_options)) {
    auto it = r.config_values.values.find(option);
    system[option] =
        it == r.config_values.values.end() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(it->second);
  }
  out["system_config"] = std::move(system);

  // bpf(2) answered if any program type or map type was decided either way.
  bool answered = false;
  for (const auto& f : r.program_types) answered = answered || f.v.state != status::unknown;
  out["syscall_config"] = {{"have_bpf_syscall", answered}};

  nlohmann::ordered_json progs = nlohmann::ordered_json::object();
  for (const auto& f : r.program_types)
    if (f.name != "unspec") progs["have_" + f.name + "_prog_type"] = decided(&f);
  out["program_types"] = std::move(progs);

  nlohmann::ordered_json maps = nlohmann::ordered_json::object();
  for (const auto& f : r.map_types)
    if (f.name != "unspec") maps["have_" + f.name + "_map_type"] = decided(&f);
  out["map_types"] = std::move(maps);

  nlohmann::ordered_json helpers = nlohmann::ordered_json::object();
  for (const auto& [type, s] : r.helpers) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& f : s)
      if (f.v.supported()) list.push_back(f.name);
    helpers[type + "_available_helpers"] = std::move(list);
  }
  out["helpers"] = std::move(helpers);

  nlohmann::ordered_json misc = nlohmann::ordered_json::object();
  for (auto [key, name] : bpftool_misc)
    if (const fact* f = find_fact(r.misc, name)) misc[key] = decided(f);
  out["misc"] = std::move(misc);
  return out;
}

}  // namespace bpfprobe::cli
