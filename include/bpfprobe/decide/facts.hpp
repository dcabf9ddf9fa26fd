// One answer for every fact key (probe/fact_key.hpp), used by --require and by decide::from: the
// catalog's names for each family, a distinct "no such fact" answer (with the names closest to the
// one asked for) for a key the catalog does not know, and the verdict of a key it knows. No lookup
// runs the whole report.
#pragma once

#include <algorithm>
#include <bpfprobe/btf/builtin_enums.hpp>
#include <bpfprobe/catalog/system.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/decide/probes.hpp>
#include <bpfprobe/probe/fact_key.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace bpfprobe::decide {

namespace facts_detail {

inline void add(std::set<std::string>& out, const std::vector<btf::entry>& kernel,
                std::span<const btf::named_value> build) {
  for (const auto& e : kernel) out.insert(e.name);
  for (const auto& e : build) out.insert(std::string(e.name));
}

// Edit distance, capped: names longer than a C identifier need not be compared exactly.
inline std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

inline std::string did_you_mean(std::string_view name, const std::set<std::string>& known) {
  std::vector<std::pair<std::size_t, std::string>> near;
  std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  for (const auto& k : known)
    if (std::size_t d = distance(name, k); d <= limit) near.emplace_back(d, k);
  std::sort(near.begin(), near.end());
  std::string out;
  for (std::size_t i = 0; i < near.size() && i < 3; ++i) out += (i ? ", " : "") + near[i].second;
  return out.empty() ? "" : " (did you mean " + out + "?)";
}

}  // namespace facts_detail

// The names the catalog knows for a family's first part (`detail_of` empty) or, for helper, link and
// attach, for the detail under `detail_of` (a helper needs no program type to be named).
inline std::set<std::string> known_names(prober& p, fact_family family, std::string_view detail_of = {}) {
  using namespace facts_detail;
  const auto& ctx = p.context();
  const auto& enums = ctx.enums();
  std::set<std::string> out;
  bool detail = !detail_of.empty();
  switch (family) {
    case fact_family::prog: add(out, enums.prog_types, btf::builtin_prog_types); break;
    case fact_family::map: add(out, enums.map_types, btf::builtin_map_types); break;
    case fact_family::helper:
      if (detail)
        add(out, enums.helpers, btf::builtin_helpers());
      else
        add(out, enums.prog_types, btf::builtin_prog_types);
      break;
    case fact_family::kfunc:
      if (detail) {
        add(out, enums.prog_types, btf::builtin_prog_types);
      } else {
        for (auto& n : p.kfunc_names()) out.insert(std::move(n));
        for (const auto& d : probe::dynptr_iter_docs)
          if (d.name.starts_with("kfunc:")) out.insert(std::string(d.name.substr(6)));
      }
      break;
    case fact_family::link:
      if (detail)
        for (const auto& v : probe::link_variants(ctx, detail_of)) out.insert(v.label);
      else
        add(out, enums.link_types, btf::builtin_link_types);
      break;
    case fact_family::misc:
      for (const auto& row : probe::misc_probes()) out.insert(std::string(row.info.name));
      for (auto name : probe::system_fact_names) out.insert(std::string(name));
      break;
    case fact_family::config:
      for (const char* name : probe::config_options) out.insert(name);
      break;
    case fact_family::iter:
      for (const auto& row : probe::iterator_rows(ctx, p.kfunc_names())) out.insert(row.name);
      break;
    case fact_family::dynptr:
      for (const auto& row : probe::dynptr_rows(ctx, p.kfunc_names())) out.insert(row.name);
      break;
    case fact_family::mechanism:
      for (const auto& row : probe::mechanism_probes()) out.insert(std::string(row.info.name));
      break;
    case fact_family::calib:
      for (const auto& row : probe::calib_probes()) out.insert(std::string(row.info.name));
      break;
    case fact_family::attach:
      if (detail) {
        if (auto c = hook(fixed({}), detail_of))  // the candidates, nothing probed
          for (const auto& cand : c->candidates) out.insert(cand.path);
      } else {
        for (auto name : hook_names) out.insert(std::string(name));
      }
      break;
  }
  return out;
}

// Whether this build's uapi enums name it: then it is known without reading the kernel's BTF (a
// single --require stays cheap). False says nothing: known_names() decides then.
inline bool build_knows(fact_family family, std::string_view name, bool detail) {
  auto in = [&](std::span<const btf::named_value> table) {
    return std::any_of(table.begin(), table.end(), [&](const auto& e) { return e.name == name; });
  };
  switch (family) {
    case fact_family::prog: return !detail && in(btf::builtin_prog_types);
    case fact_family::map: return !detail && in(btf::builtin_map_types);
    case fact_family::helper: {
      if (!detail) return in(btf::builtin_prog_types);
      static const auto helpers = btf::builtin_helpers();
      return in(helpers);
    }
    case fact_family::kfunc: return detail && in(btf::builtin_prog_types);
    case fact_family::link: return !detail && in(btf::builtin_link_types);
    default: return false;
  }
}

// Why the catalog does not know `key` ("no such map type 'hsah' (did you mean hash?)"); nullopt when it does.
inline std::optional<std::string> no_such_fact(prober& p, const fact_key& key) {
  static constexpr std::string_view what[] = {
      "program type", "map type", "program type", "misc fact",        "config option", "kfunc",
      "link type",    "iterator", "dynptr fact",  "attach mechanism", "attach hook",   "calibration fact"};
  auto family = static_cast<std::size_t>(key.family);
  if (!build_knows(key.family, key.name, false)) {
    auto names = known_names(p, key.family);
    if (!names.contains(key.name))
      return "no such " + std::string(what[family]) + " '" + key.name + "'" +
             facts_detail::did_you_mean(key.name, names);
  }
  if (key.detail.empty() || build_knows(key.family, key.detail, true)) return std::nullopt;
  auto details = known_names(p, key.family, key.name);
  if (details.contains(key.detail)) return std::nullopt;
  std::string detail = key.family == fact_family::helper  ? "helper"
                       : key.family == fact_family::kfunc ? "program type"
                       : key.family == fact_family::link  ? "attach type"
                                                          : "path";
  std::string of = key.family == fact_family::link     ? " for link type " + key.name
                   : key.family == fact_family::attach ? " for hook " + key.name
                                                       : "";
  return "no such " + detail + " '" + key.detail + "'" + of + facts_detail::did_you_mean(key.detail, details);
}

inline lookup from(prober& p);

// The verdict of a key the catalog knows (check no_such_fact first: for a key it does not know this
// is the prober's own answer, which differs per family).
inline verdict verdict_of(prober& p, const fact_key& key) {
  switch (key.family) {
    case fact_family::prog: return p.prog_type(key.name);
    case fact_family::map: return p.map_type(key.name);
    case fact_family::helper: return p.helper(key.name, key.detail);
    case fact_family::misc:
      for (const auto& row : probe::misc_probes())
        if (row.info.name == key.name) return p.misc(key.name);
      for (auto& [name, v] : probe::system_facts(probe::read_kernel_info(p.context())))
        if (name == key.name) return v;
      break;
    case fact_family::config:
      return probe::config_verdict(probe::read_kernel_config(probe::read_kernel_info(p.context()).release), key.name);
    case fact_family::kfunc: return key.detail.empty() ? p.kfunc(key.name) : p.kfunc(key.name, key.detail);
    case fact_family::link: return key.detail.empty() ? p.link(key.name) : p.link_attach_type(key.name, key.detail);
    case fact_family::iter: return p.iterator(key.name);
    case fact_family::dynptr: return p.dynptr(key.name);
    case fact_family::mechanism: return p.mechanism(key.name);
    case fact_family::calib: return p.calibrate(key.name);
    case fact_family::attach:
      if (auto c = hook(from(p), key.name)) {
        if (key.detail.empty()) return hook_verdict(*c);
        if (const candidate* path = c->find(key.detail)) return path->v;
      }
      break;
  }
  return verdict::unknown("no such fact: " + key.str());
}

// The lookup every real decision uses: a key of fact_key's form through lookup(), and "attach:<name>",
// the decide layer's own attach probes (probes.hpp), cached by the prober like every conclusive verdict.
inline lookup from(prober& p) {
  return [&p](std::string_view key) -> verdict {
    if (key.starts_with("attach:")) {
      std::string name(key.substr(7));
      return p.remember("attach/" + name, [&] { return own::run(p.context(), name); });
    }
    auto parsed = fact_key::parse(key);
    if (auto* k = std::get_if<fact_key>(&parsed)) return verdict_of(p, *k);
    return verdict::unknown(std::get<std::string>(parsed));
  };
}

}  // namespace bpfprobe::decide
