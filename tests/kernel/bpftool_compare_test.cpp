// bpftool and bpfprobe on the same kernel: program types, map types, helpers per program type and the
// misc facts both report (bpftool_compare.hpp). Every disagreement must be explained by a rule (a kind of
// answer bpftool cannot give: a refused load counted as absence, helpers bpftool does not probe) or by a
// name-level row of tests/bpftool_exceptions.tsv, and every row must still name a disagreement.
#include "bpftool_compare.hpp"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bpfprobe/bpfprobe.hpp>
#include <bpfprobe/report/render_json.hpp>
#include <iostream>

#include "run.hpp"

#ifndef BPFPROBE_SOURCE_DIR
#error "BPFPROBE_SOURCE_DIR must name the source tree"
#endif

namespace bpfprobe::testing {
namespace {

using namespace bpftool_compare;

std::string bpftool_path() {
  for (const char* p : {"/usr/sbin/bpftool", "/usr/local/sbin/bpftool", "/sbin/bpftool"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

// `bpftool -j feature probe kernel full`, parsed; "full" also probes the helpers bpftool skips by
// default because they write to the kernel log (bpf_trace_printk, bpf_trace_vprintk,
// bpf_probe_write_user); bpfprobe probes them all.
nlohmann::json bpftool_report() {
  auto r = run({bpftool_path(), "-j", "feature", "probe", "kernel", "full"});
  if (r.code != 0) throw std::runtime_error("bpftool feature probe failed: " + r.err);
  return nlohmann::json::parse(r.out);
}

std::string exceptions_path() { return std::string(BPFPROBE_SOURCE_DIR) + "/tests/bpftool_exceptions.tsv"; }

// Judges bpfprobe's report `mine` against bpftool's: no unexplained disagreement, no stale row, and most
// facts agreeing. Returns the outcome for further checks.
outcome expect_explained(const nlohmann::json& tool, const nlohmann::json& mine) {
  auto comparisons = compare(tool, mine);
  EXPECT_GT(comparisons.size(), 1000u);
  std::vector<std::string> errors;
  auto rows = read_exceptions(exceptions_path(), errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  auto o = judge(comparisons, rows);
  std::string unexplained;
  for (const auto& u : o.unexplained) unexplained += u + "\n";
  EXPECT_TRUE(unexplained.empty()) << "disagreements with bpftool that no rule and no row of " << exceptions_path()
                                   << " explains (kind, name, bpftool, bpfprobe):\n"
                                   << unexplained;
  // A row is stale when the fact it names no longer disagrees (a rule may explain it on this host).
  for (const auto& row : rows) {
    bool named = std::any_of(comparisons.begin(), comparisons.end(), [&](const comparison& c) {
      return !c.agree() && c.kind == row.kind && row.bpftool == (c.bpftool ? "true" : "false") &&
             fnmatch(row.name_glob.c_str(), c.name.c_str(), 0) == 0;
    });
    EXPECT_TRUE(named) << exceptions_path() << ":" << row.line
                       << ": stale exception (no disagreement names it): " << row.kind << " " << row.name_glob << " "
                       << row.bpftool << " " << row.bpfprobe;
  }
  EXPECT_GT(o.agreed, 1000);
  return o;
}

TEST(BpftoolCompare, EveryDisagreementIsExplained) {
  if (!is_root()) GTEST_SKIP() << "bpftool and bpfprobe probe as root";
  if (bpftool_path().empty()) GTEST_SKIP() << "bpftool not installed (scripts/install-deps.sh installs it)";
  auto o = expect_explained(bpftool_report(), cli_json());
  // Which rule or row explained what: every program type, map type and misc fact by name, helpers counted.
  for (const auto& [by, n] : o.by_rule) std::cout << "explained by " << by << ": " << n << "\n";
  for (const auto& e : o.explained)
    if (e.rfind("helper\t", 0) != 0) std::cout << "  " << e << "\n";
}

// Fails every BPF_PROG_LOAD of `prog_type`, or BPF_MAP_CREATE of `map_type`, with EPERM, as a kernel
// with lockdown or an LSM does; every other call reaches the kernel.
class refuse_type : public sys::syscalls {
 public:
  refuse_type(int prog_type, int map_type) : prog_(prog_type), map_(map_type) {}
  std::atomic<int> refused{0};
  long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept override {
    if ((cmd == BPF_PROG_LOAD && static_cast<int>(attr->prog_type) == prog_) ||
        (cmd == BPF_MAP_CREATE && static_cast<int>(attr->map_type) == map_)) {
      ++refused;
      errno = EPERM;
      return -1;
    }
    return syscalls::real().bpf(cmd, attr, size);
  }

 private:
  int prog_, map_;
};

// bpfprobe's JSON report made in this process while `seam` answers the bpf() calls.
nlohmann::json report_through(sys::syscalls& seam) {
  sys::scoped_syscalls installed(seam);
  probe::options o;
  o.cache.enabled = false;
  prober p(o);
  return nlohmann::json::parse(render::json(p.full_report()));
}

// libbpf's enum value for a type name ("bloom_filter" -> BPF_MAP_TYPE_BLOOM_FILTER), or -1.
template <typename Enum>
int enum_value(const char* (*to_str)(Enum), const std::string& name) {
  for (int v = 0; v < 256; ++v)
    if (const char* s = to_str(static_cast<Enum>(v)); s && name == s) return v;
  return -1;
}

// A host where bloom_filter maps and lirc_mode2 programs are refused (EPERM, as lockdown or an LSM
// refuses them): bpfprobe's report made through the seam, and bpftool's report as bpftool gives it on
// such a host (it counts a refused probe as absence: false, no helpers). The "not-permitted" rules
// explain both facts and the helpers of the refused program type, by rule, with no row naming them.
// The same report against bpftool's real answer for bloom_filter (true here, or on any kernel ≥ 5.16)
// must stay unexplained: the rules accept only what bpftool cannot tell.
TEST(BpftoolCompare, RefusedTypesAreExplainedByRuleNotByName) {
  if (!is_root()) GTEST_SKIP() << "bpftool and bpfprobe probe as root";
  if (bpftool_path().empty()) GTEST_SKIP() << "bpftool not installed (scripts/install-deps.sh installs it)";
  int map = enum_value(libbpf_bpf_map_type_str, "bloom_filter");
  int prog = enum_value(libbpf_bpf_prog_type_str, "lirc_mode2");
  ASSERT_GE(map, 0);
  ASSERT_GE(prog, 0);
  auto tool = bpftool_report();
  refuse_type seam(prog, map);
  auto mine = report_through(seam);
  EXPECT_GT(seam.refused.load(), 0);
  ASSERT_EQ(mine["map_types"]["bloom_filter"]["status"], "unknown") << mine["map_types"]["bloom_filter"].dump();
  ASSERT_EQ(mine["map_types"]["bloom_filter"]["errno"], "EPERM");
  ASSERT_EQ(mine["program_types"]["lirc_mode2"]["status"], "unknown");

  auto refused_host = tool;
  refused_host["map_types"]["have_bloom_filter_map_type"] = false;
  refused_host["program_types"]["have_lirc_mode2_prog_type"] = false;
  refused_host["helpers"]["lirc_mode2_available_helpers"] = nlohmann::json::array();
  auto o = expect_explained(refused_host, mine);
  auto explained_as = [&](const std::string& what) {
    for (const auto& e : o.explained)
      if (e.rfind(what, 0) == 0) return e.substr(e.find("-- ") + 3);
    return std::string("(not explained)");
  };
  EXPECT_EQ(explained_as("map\tbloom_filter\tfalse\tunknown\t"), "rule not-permitted");
  EXPECT_EQ(explained_as("prog\tlirc_mode2\tfalse\tunknown\t"), "rule not-permitted");
  EXPECT_GT(o.by_rule["rule program-type-not-permitted"], 0) << "lirc_mode2's helpers";

  if (!tool["map_types"].value("have_bloom_filter_map_type", false)) return;  // bpftool finds no bloom filter
  std::vector<std::string> errors;
  auto rows = read_exceptions(exceptions_path(), errors);
  auto against_real = judge(compare(tool, mine), rows);
  bool flagged = std::any_of(against_real.unexplained.begin(), against_real.unexplained.end(),
                             [](const std::string& u) { return u.rfind("map\tbloom_filter\ttrue\tunknown", 0) == 0; });
  EXPECT_TRUE(flagged) << "bpftool creates bloom filters here, bpfprobe was refused: no rule may accept that";
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
