// bpftool and bpfprobe on the same kernel: program types, map types, helpers per program type and the
// misc facts both report. bpftool says yes/no, bpfprobe supported/unsupported/unknown; they agree
// when yes = supported and no = unsupported. Every other pairing must be explained by a row of
// tests/bpftool_exceptions.tsv, and every row must still explain something (no stale rows).
#include <fnmatch.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "run.hpp"

#ifndef BPFPROBE_SOURCE_DIR
#error "BPFPROBE_SOURCE_DIR must name the source tree"
#endif

namespace bpfprobe::testing {
namespace {

struct comparison {
  std::string kind, name;  // kind: prog, map, helper, misc; helper names are "<prog_type>/<helper>"
  bool bpftool;
  std::string bpfprobe;  // status, or "absent"
  std::string reason;    // bpfprobe's reason, for the failure message
};

struct exception_row {
  std::string kind, name_glob, bpftool, bpfprobe, why;
  int line = 0;
  int used = 0;
};

std::string bpftool_path() {
  for (const char* p : {"/usr/sbin/bpftool", "/usr/local/sbin/bpftool", "/sbin/bpftool"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

// "have_<name>_<suffix>" -> name
bool strip(const std::string& key, const std::string& prefix, const std::string& suffix, std::string& out) {
  if (key.size() <= prefix.size() + suffix.size() || key.rfind(prefix, 0) != 0 ||
      key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  out = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  return true;
}

std::vector<comparison> compare(const nlohmann::json& tool, const nlohmann::json& mine) {
  std::vector<comparison> out;
  auto status_of = [](const nlohmann::json& section, const std::string& name) -> std::pair<std::string, std::string> {
    if (!section.contains(name)) return {"absent", ""};
    return {section[name]["status"], section[name].value("reason", "")};
  };
  auto add_section = [&](const char* kind, const nlohmann::json& tool_section, const std::string& suffix,
                         const nlohmann::json& my_section) {
    for (const auto& [key, value] : tool_section.items()) {
      std::string name;
      if (!strip(key, "have_", suffix, name)) continue;
      auto [status, reason] = status_of(my_section, name);
      out.push_back({kind, name, value.get<bool>(), status, reason});
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
    for (const auto& [helper, f] : my_type.items())
      out.push_back({"helper", type + "/" + helper, available.count(helper) > 0, f["status"], f.value("reason", "")});
    for (const auto& helper : available)
      if (!my_type.contains(helper)) out.push_back({"helper", type + "/" + helper, true, "absent", ""});
  }
  // Misc facts both tools report (bpftool's key -> bpfprobe's name).
  const std::pair<const char*, const char*> misc[] = {{"have_large_insn_limit", "large_insn_limit"},
                                                      {"have_bounded_loops", "bounded_loops"},
                                                      {"have_v2_isa_extension", "isa_v2"},
                                                      {"have_v3_isa_extension", "isa_v3"},
                                                      {"have_v4_isa_extension", "isa_v4"}};
  for (auto [key, name] : misc) {
    if (!tool.at("misc").contains(key)) continue;
    auto [status, reason] = status_of(mine.at("misc"), name);
    out.push_back({"misc", name, tool["misc"][key].get<bool>(), status, reason});
  }
  return out;
}

// `bpftool -j feature probe kernel full`, parsed; "full" also probes the helpers bpftool skips by
// default because they write to the kernel log (bpf_trace_printk, bpf_trace_vprintk,
// bpf_probe_write_user); bpfprobe probes them all.
nlohmann::json bpftool_report() {
  auto r = run({bpftool_path(), "-j", "feature", "probe", "kernel", "full"});
  if (r.code != 0) throw std::runtime_error("bpftool feature probe failed: " + r.err);
  return nlohmann::json::parse(r.out);
}

bool agree(const comparison& c) { return c.bpfprobe == (c.bpftool ? "supported" : "unsupported"); }

std::vector<exception_row> read_exceptions(const std::string& path) {
  std::vector<exception_row> rows;
  std::ifstream in(path);
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
      ADD_FAILURE() << path << ":" << n << ": expected 5 tab-separated columns with a reason: " << line;
      continue;
    }
    rows.push_back({cols[0], cols[1], cols[2], cols[3], cols[4], n});
  }
  return rows;
}

// A row matches a disagreement when kind and bpftool's answer are equal, the name matches the row's
// glob and bpfprobe's status is one of the row's '|'-separated statuses.
bool matches(const exception_row& row, const comparison& c) {
  if (row.kind != c.kind || row.bpftool != (c.bpftool ? "true" : "false")) return false;
  if (fnmatch(row.name_glob.c_str(), c.name.c_str(), 0) != 0) return false;
  std::stringstream ss(row.bpfprobe);
  std::string alt;
  while (std::getline(ss, alt, '|'))
    if (alt == c.bpfprobe) return true;
  return false;
}

TEST(BpftoolCompare, EveryDisagreementIsExplained) {
  if (!is_root()) GTEST_SKIP() << "bpftool and bpfprobe probe as root";
  if (bpftool_path().empty()) GTEST_SKIP() << "bpftool not installed (scripts/install-deps.sh installs it)";
  auto tool = bpftool_report();
  auto mine = cli_json();

  auto comparisons = compare(tool, mine);
  ASSERT_GT(comparisons.size(), 1000u);
  std::string path = std::string(BPFPROBE_SOURCE_DIR) + "/tests/bpftool_exceptions.tsv";
  auto rows = read_exceptions(path);

  int agreed = 0;
  std::ostringstream unexplained;
  for (const auto& c : comparisons) {
    if (agree(c)) {
      ++agreed;
      continue;
    }
    bool explained = false;
    for (auto& row : rows) {
      if (matches(row, c)) {
        ++row.used;
        explained = true;
        break;
      }
    }
    if (!explained)
      unexplained << c.kind << '\t' << c.name << '\t' << (c.bpftool ? "true" : "false") << '\t' << c.bpfprobe
                  << "\t(bpfprobe: " << c.reason << ")\n";
  }
  EXPECT_TRUE(unexplained.str().empty()) << "disagreements with bpftool not in " << path
                                         << " (kind, name, bpftool, bpfprobe):\n"
                                         << unexplained.str();
  for (const auto& row : rows)
    EXPECT_GT(row.used, 0) << path << ":" << row.line << ": stale exception (no disagreement matches it): " << row.kind
                           << " " << row.name_glob << " " << row.bpftool << " " << row.bpfprobe;
  EXPECT_GT(agreed, 1000);
}

// `bpfprobe --json=bpftool` has every section and key bpftool emits. system_config values are equal;
// each verdict key carries bpfprobe's verdict (supported true, unsupported false, unknown null; a helper
// is listed when supported), so it equals bpftool's value wherever the test above finds agreement and
// differs only where tests/bpftool_exceptions.tsv explains why.
TEST(BpftoolCompare, BpftoolShapedJsonHasEveryKeyAndBpfprobesVerdicts) {
  if (!is_root()) GTEST_SKIP() << "bpftool and bpfprobe probe as root";
  if (bpftool_path().empty()) GTEST_SKIP() << "bpftool not installed (scripts/install-deps.sh installs it)";
  auto tool = bpftool_report();
  auto shaped_run = run_cli({"--json=bpftool"});
  ASSERT_EQ(shaped_run.code, 0) << shaped_run.err;
  auto shaped = nlohmann::json::parse(shaped_run.out);
  auto mine = cli_json();

  std::size_t keys = 0;
  for (const auto& [section, body] : tool.items()) {
    ASSERT_TRUE(shaped.contains(section)) << "section " << section << " missing";
    for (const auto& [key, value] : body.items()) {
      ++keys;
      ASSERT_TRUE(shaped[section].contains(key)) << section << "." << key << " missing";
      if (section == "system_config" || section == "syscall_config")
        EXPECT_EQ(shaped[section][key], value) << section << "." << key;
    }
  }
  EXPECT_GT(keys, 100u);

  auto expected = [](const std::string& status) -> nlohmann::json {
    return status == "supported" ? nlohmann::json(true) : status == "unsupported" ? nlohmann::json(false) : nullptr;
  };
  int checked = 0;
  for (const auto& c : compare(tool, mine)) {
    nlohmann::json got;
    if (c.kind == "helper") {
      auto slash = c.name.find('/');
      const auto& list = shaped["helpers"][c.name.substr(0, slash) + "_available_helpers"];
      bool listed = std::find(list.begin(), list.end(), c.name.substr(slash + 1)) != list.end();
      EXPECT_EQ(listed, c.bpfprobe == "supported") << c.name << " (" << c.bpfprobe << ")";
      ++checked;
      continue;
    }
    const char* section = c.kind == "prog" ? "program_types" : c.kind == "map" ? "map_types" : "misc";
    std::string key = c.kind == "prog"  ? "have_" + c.name + "_prog_type"
                      : c.kind == "map" ? "have_" + c.name + "_map_type"
                      : c.name == "large_insn_limit" || c.name == "bounded_loops"
                          ? "have_" + c.name
                          : "have_" + c.name.substr(4) + "_isa_extension";  // isa_v2 -> have_v2_isa_extension
    ASSERT_TRUE(shaped[section].contains(key)) << key;
    EXPECT_EQ(shaped[section][key], expected(c.bpfprobe)) << section << "." << key;
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace bpfprobe::testing
