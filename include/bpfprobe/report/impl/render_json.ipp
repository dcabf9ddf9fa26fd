// Definitions for bpfprobe/report/render_json.hpp (inline in the header-only mode, compiled into
// libbpfprobe otherwise). nlohmann_json is used here only, never in a public declaration.
#include <unistd.h>

#include <bpfprobe/report/render_json.hpp>
#include <bpfprobe/sys/result.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

namespace bpfprobe::render::json_detail {

BPFPROBE_INLINE nlohmann::json fact_json(const fact& f) {
  nlohmann::json j;
  j["status"] = std::string(to_string(f.v.state));
  if (!f.v.reason.empty() || !f.v.supported()) j["reason"] = f.v.reason;
  if (f.v.err) j["errno"] = sys::errno_name(f.v.err);
  if (!f.v.evidence.empty()) j["evidence"] = f.v.evidence;
  if (f.v.value) j["value"] = *f.v.value;
  if (!f.first_kernel.empty()) j["first_kernel"] = f.first_kernel;
  if (!f.commit.empty()) j["commit"] = f.commit;
  for (const auto& [k, v] : f.attrs) j[k] = v;
  for (const auto& [k, v] : f.lists) j[k] = v;
  return j;
}

BPFPROBE_INLINE nlohmann::json section_json(const section& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : s) j[f.name] = fact_json(f);
  return j;
}

// "attach": { hook: {"chosen": path|null, "candidates": [{path, status, reason, ...}], <attrs>} }
BPFPROBE_INLINE nlohmann::json attach_json(const std::vector<attach_choice>& hooks) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& h : hooks) {
    nlohmann::json o;
    o["chosen"] = h.chosen.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.chosen);
    nlohmann::json cands = nlohmann::json::array();
    for (const auto& c : h.candidates) {
      nlohmann::json cj{{"path", c.path}, {"status", std::string(to_string(c.v.state))}, {"reason", c.v.reason}};
      if (c.v.err) cj["errno"] = sys::errno_name(c.v.err);
      if (!c.v.evidence.empty()) cj["evidence"] = c.v.evidence;
      cj["needs"] = c.needs;
      cands.push_back(std::move(cj));
    }
    o["candidates"] = std::move(cands);
    for (const auto& [k, v] : h.attrs) o[k] = v;
    j[h.hook] = std::move(o);
  }
  return j;
}

// "compat": { accessor: {"tier": name|"unavailable", "for": prog_type, "tiers": [{tier, status, reason}]} }
BPFPROBE_INLINE nlohmann::json compat_json(const std::vector<compat_accessor>& accessors) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& a : accessors) {
    nlohmann::json tiers = nlohmann::json::array();
    for (const auto& [name, v] : a.tiers) {
      nlohmann::json t{{"tier", name}, {"status", std::string(to_string(v.state))}, {"reason", v.reason}};
      if (v.err) t["errno"] = sys::errno_name(v.err);
      if (!v.evidence.empty()) t["evidence"] = v.evidence;
      tiers.push_back(std::move(t));
    }
    j[a.name] = {{"tier", a.tier}, {"for", a.prog_type}, {"tiers", std::move(tiers)}};
  }
  return j;
}

template <class T>
BPFPROBE_INLINE nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

BPFPROBE_INLINE nlohmann::json to_json(const report& r) {
  nlohmann::json j;
  auto& k = j["kernel"];
  k["release"] = r.kernel.release;
  k["btf"] = r.kernel.btf.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.kernel.btf);
  k["names_source"] = r.names_source;
  k["names_from_btf"] = r.names_from_btf;
  k["kfunc_list"] = {{"source", r.kfunc_list_source}, {"undecided", r.kfuncs_undecided}};
  if (r.kfuncs_undecided) k["kfunc_list"]["undecided_reason"] = r.kfuncs_undecided_reason;
  k["unprivileged_bpf_disabled"] = optional_json(r.kernel.unprivileged_bpf_disabled);
  k["jit"] = {{"enable", optional_json(r.kernel.jit_enable)},
              {"harden", optional_json(r.kernel.jit_harden)},
              {"kallsyms", optional_json(r.kernel.jit_kallsyms)},
              {"limit", optional_json(r.kernel.jit_limit)}};
  k["lockdown"] = r.kernel.lockdown.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.kernel.lockdown);
  k["config_source"] =
      r.kernel.config_source.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.kernel.config_source);
  k["euid"] = static_cast<int>(geteuid());
  j["program_types"] = section_json(r.program_types);
  j["map_types"] = section_json(r.map_types);
  auto& helpers = j["helpers"] = nlohmann::json::object();
  for (const auto& [type, s] : r.helpers) helpers[type] = section_json(s);
  j["misc"] = section_json(r.misc);
  j["config"] = section_json(r.config);
  for (const auto& [name, s] : r.more) j[name] = section_json(s);
  if (!r.compat.empty()) j["compat"] = compat_json(r.compat);
  if (!r.attach.empty()) j["attach"] = attach_json(r.attach);
  return j;
}

// The shape of `bpftool -j feature probe kernel`: same sections and keys. bpftool answers true/false;
// a fact bpfprobe could not decide (unknown) is null here, never false, and is left out of the
// helper lists.

BPFPROBE_INLINE nlohmann::ordered_json decided(const fact* f) {
  if (!f || f->v.state == status::unknown) return nullptr;
  return f->v.supported();
}

template <class T>
BPFPROBE_INLINE nlohmann::ordered_json number_or_null(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

// bpftool's misc key -> bpfprobe's misc fact.
inline constexpr std::pair<const char*, const char*> bpftool_misc[] = {{"have_large_insn_limit", "large_insn_limit"},
                                                                       {"have_bounded_loops", "bounded_loops"},
                                                                       {"have_v2_isa_extension", "isa_v2"},
                                                                       {"have_v3_isa_extension", "isa_v3"},
                                                                       {"have_v4_isa_extension", "isa_v4"}};

BPFPROBE_INLINE nlohmann::ordered_json to_bpftool_json(const report& r) {
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

}  // namespace bpfprobe::render::json_detail

namespace bpfprobe::render {

// Invalid UTF-8 (a path given by the user) becomes U+FFFD rather than failing the report.
BPFPROBE_INLINE std::string json(const report& r, int indent) {
  return json_detail::to_json(r).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

BPFPROBE_INLINE std::string bpftool_json(const report& r, int indent) {
  return json_detail::to_bpftool_json(r).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bpfprobe::render
