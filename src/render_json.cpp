#include "render.hpp"

namespace bpfprobe::cli {
namespace {

nlohmann::json fact_json(const fact& f) {
  nlohmann::json j;
  j["status"] = std::string(to_string(f.v.state));
  if (!f.v.reason.empty() || !f.v.supported()) j["reason"] = f.v.reason;
  if (f.v.err) j["errno"] = sys::errno_name(f.v.err);
  if (!f.v.evidence.empty()) j["evidence"] = f.v.evidence;
  if (!f.first_kernel.empty()) j["first_kernel"] = f.first_kernel;
  if (!f.commit.empty()) j["commit"] = f.commit;
  for (const auto& [k, v] : f.attrs) j[k] = v;
  for (const auto& [k, v] : f.lists) j[k] = v;
  return j;
}

nlohmann::json section_json(const section& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : s) j[f.name] = fact_json(f);
  return j;
}

// "attach": { hook: {"chosen": path|null, "candidates": [{path, status, reason, ...}], <attrs>} }
nlohmann::json attach_json(const std::vector<attach_choice>& hooks) {
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
nlohmann::json compat_json(const std::vector<compat_accessor>& accessors) {
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
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const report& r) {
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

}  // namespace bpfprobe::cli
