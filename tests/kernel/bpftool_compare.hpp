// bpftool's verdicts next to bpfprobe's, fact by fact, and why they may differ. bpftool says yes/no,
// bpfprobe supported/unsupported/unknown; they agree when yes = supported and no = unsupported. A
// disagreement is accepted by a rule (a kind of answer bpftool cannot give, for any name on any host)
// or, for a real semantic difference of one fact, by a row of tests/bpftool_exceptions.tsv.
#pragma once

#include <fnmatch.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace bpfprobe::testing::bpftool_compare {

struct comparison {
  std::string kind, name;  // kind: prog, map, helper, misc; helper names are "<prog_type>/<helper>"
  bool bpftool = false;
  std::string bpfprobe;             // status, or "absent"
  std::string reason;               // bpfprobe's reason, for messages
  std::string err;                  // bpfprobe's errno name, when a call failed
  std::string prog_err;             // helpers: the errno name of bpfprobe's verdict on the program type
  bool bpftool_lists_none = false;  // helpers: bpftool lists no helper at all for the program type
  [[nodiscard]] bool agree() const { return bpfprobe == (bpftool ? "supported" : "unsupported"); }
};

// "have_<name>_<suffix>" -> name
inline bool strip(const std::string& key, const std::string& prefix, const std::string& suffix, std::string& out) {
  if (key.size() <= prefix.size() + suffix.size() || key.rfind(prefix, 0) != 0 ||
      key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  out = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  return true;
}

// Every fact both reports decide: `tool` is `bpftool -j feature probe kernel full`, `mine` bpfprobe's
// JSON report (docs/json-report.md).
inline std::vector<comparison> compare(const nlohmann::json& tool, const nlohmann::json& mine) {
  std::vector<comparison> out;
  auto fact = [](const nlohmann::json& section, const std::string& name, comparison& c) {
    if (!section.contains(name)) {
      c.bpfprobe = "absent";
      return;
    }
    const auto& f = section[name];
    c.bpfprobe = f.at("status");
    c.reason = f.value("reason", "");
    c.err = f.value("errno", "");
  };
  auto add_section = [&](const char* kind, const nlohmann::json& tool_section, const std::string& suffix,
                         const nlohmann::json& my_section) {
    for (const auto& [key, value] : tool_section.items()) {
      comparison c{kind};
      if (!strip(key, "have_", suffix, c.name)) continue;
      c.bpftool = value.get<bool>();
      fact(my_section, c.name, c);
      out.push_back(std::move(c));
    }
  };
  add_section("prog", tool.at("program_types"), "_prog_type", mine.at("program_types"));
  add_section("map", tool.at("map_types"), "_map_type", mine.at("map_types"));
  // bpftool lists the helpers it found per program type; the rest of the kernel's helpers are "no".
  for (const auto& [key, list] : tool.at("helpers").items()) {
    std::string type;
    if (!strip(key, "", "_available_helpers", type)) continue;
    std::set<std::string> available(list.begin(), list.end());
    const auto& my_type = mine.at("helpers").contains(type) ? mine["helpers"][type] : nlohmann::json::object();
    std::string prog_err;
    if (mine.at("program_types").contains(type)) prog_err = mine["program_types"][type].value("errno", "");
    auto add = [&](const std::string& helper) {
      comparison c{"helper", type + "/" + helper, available.count(helper) > 0};
      fact(my_type, helper, c);
      c.prog_err = prog_err;
      c.bpftool_lists_none = available.empty();
      out.push_back(std::move(c));
    };
    for (const auto& [helper, f] : my_type.items()) add(helper);
    for (const auto& helper : available)
      if (!my_type.contains(helper)) add(helper);
  }
  // Misc facts both tools report (bpftool's key -> bpfprobe's name).
  const std::pair<const char*, const char*> misc[] = {{"have_large_insn_limit", "large_insn_limit"},
                                                      {"have_bounded_loops", "bounded_loops"},
                                                      {"have_v2_isa_extension", "isa_v2"},
                                                      {"have_v3_isa_extension", "isa_v3"},
                                                      {"have_v4_isa_extension", "isa_v4"}};
  for (auto [key, name] : misc) {
    if (!tool.at("misc").contains(key)) continue;
    comparison c{"misc", name, tool["misc"][key].get<bool>()};
    fact(mine.at("misc"), name, c);
    out.push_back(std::move(c));
  }
  return out;
}

// A kind of disagreement that is bpftool's blind spot by construction, whatever the name and host.
struct rule {
  const char* name;
  const char* why;
  bool (*holds)(const comparison&);
};

inline bool refused(const std::string& err) { return err == "EPERM" || err == "EACCES"; }

// libbpf_probe_bpf_helper() answers -EOPNOTSUPP for these program types (it cannot give them an
// attach target), so bpftool lists no helper for them.
inline bool helpers_unprobed_by_bpftool(const std::string& helper_name) {
  static const char* const types[] = {"tracing/", "ext/", "lsm/", "struct_ops/"};
  for (const char* t : types)
    if (helper_name.rfind(t, 0) == 0) return true;
  return false;
}

inline const std::vector<rule>& rules() {
  static const std::vector<rule> all = {
      {"program-type-not-permitted",
       "the helper's program type is unknown here because its loads are refused (EPERM/EACCES), so its "
       "helpers cannot be probed (unknown); bpftool lists none (false)",
       [](const comparison& c) {
         return c.kind == "helper" && !c.bpftool && c.bpfprobe == "unknown" && refused(c.prog_err);
       }},
      {"not-permitted",
       "the kernel refused bpfprobe's probe with EPERM/EACCES (privileges, lockdown, an LSM): bpfprobe does "
       "not decide on a refusal (unknown), bpftool counts it as absence (false)",
       [](const comparison& c) { return !c.bpftool && c.bpfprobe == "unknown" && refused(c.err); }},
      {"bpftool-probes-no-helpers-of-type",
       "libbpf_probe_bpf_helper() returns -EOPNOTSUPP for tracing, ext, lsm and struct_ops programs, so "
       "bpftool lists none of their helpers; bpfprobe loads the call against a real attach target",
       [](const comparison& c) {
         return c.kind == "helper" && !c.bpftool && c.bpftool_lists_none && helpers_unprobed_by_bpftool(c.name) &&
                (c.bpfprobe == "supported" || c.bpfprobe == "unknown");
       }},
  };
  return all;
}

// A name-level exception: one fact whose meaning differs between the tools.
struct exception_row {
  std::string kind, name_glob, bpftool, bpfprobe, why;
  int line = 0;
  int used = 0;
};

// Rows of tests/bpftool_exceptions.tsv; malformed lines go to `errors`.
inline std::vector<exception_row> read_exceptions(const std::string& path, std::vector<std::string>& errors) {
  std::vector<exception_row> rows;
  std::ifstream in(path);
  if (!in) errors.push_back(path + ": cannot read");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() != 5 || cols[4].empty()) {
      errors.push_back(path + ":" + std::to_string(n) + ": expected 5 tab-separated columns with a reason: " + line);
      continue;
    }
    rows.push_back({cols[0], cols[1], cols[2], cols[3], cols[4], n});
  }
  return rows;
}

// A row matches when kind and bpftool's answer are equal, the name matches the row's glob and
// bpfprobe's status is one of the row's '|'-separated statuses.
inline bool matches(const exception_row& row, const comparison& c) {
  if (row.kind != c.kind || row.bpftool != (c.bpftool ? "true" : "false")) return false;
  if (fnmatch(row.name_glob.c_str(), c.name.c_str(), 0) != 0) return false;
  std::stringstream ss(row.bpfprobe);
  std::string alt;
  while (std::getline(ss, alt, '|'))
    if (alt == c.bpfprobe) return true;
  return false;
}

struct outcome {
  int agreed = 0;
  std::map<std::string, int> by_rule;  // rule name, or "tests/bpftool_exceptions.tsv:LINE" -> disagreements
  std::vector<std::string> explained;  // "kind name: bpftool X, bpfprobe Y -- rule R"
  std::vector<std::string> unexplained;
};

// Judges every comparison: agreement, then the rules in order, then the rows (counting their use).
inline outcome judge(const std::vector<comparison>& comparisons, std::vector<exception_row>& rows) {
  outcome o;
  for (const auto& c : comparisons) {
    if (c.agree()) {
      ++o.agreed;
      continue;
    }
    std::string by;
    for (const auto& r : rules())
      if (r.holds(c)) {
        by = std::string("rule ") + r.name;
        break;
      }
    if (by.empty())
      for (auto& row : rows)
        if (matches(row, c)) {
          ++row.used;
          by = "tests/bpftool_exceptions.tsv:" + std::to_string(row.line);
          break;
        }
    std::string what = c.kind + '\t' + c.name + '\t' + (c.bpftool ? "true" : "false") + '\t' + c.bpfprobe;
    if (by.empty()) {
      o.unexplained.push_back(what + "\t(bpfprobe: " + c.reason + ")");
    } else {
      ++o.by_rule[by];
      o.explained.push_back(what + "\t-- " + by);
    }
  }
  return o;
}

}  // namespace bpfprobe::testing::bpftool_compare
