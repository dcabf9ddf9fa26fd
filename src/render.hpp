// Report renderers and --require handling for the bpfprobe CLI.
#pragma once

#include <bpfprobe/bpfprobe.hpp>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace bpfprobe::cli {

nlohmann::json to_json(const report& r);
// The shape of `bpftool -j feature probe kernel` (--json=bpftool): same sections and keys; unknown is null.
nlohmann::ordered_json to_bpftool_json(const report& r);
void print_text(std::ostream& out, const report& r, bool color, bool verbose);
void print_macros(std::ostream& out, const report& r);

// Exit codes (documented in --help and the README).
enum exit_code : int {
  exit_ok = 0,
  exit_unsupported = 1,  // --require: a feature is unsupported
  exit_usage = 2,        // bad flags, unreadable or corrupt --btf file, unknown feature name
  exit_unknown = 3,      // --require: a feature could not be decided
  exit_failure = 4,      // the report itself could not be produced
};

struct requirement {
  std::string text;     // as the user wrote it
  std::string section;  // program_types, map_types, helpers, misc, config, kfuncs, links, ...
  std::string name;     // fact name; for helpers "prog_type/helper"
};

// Parses "prog:xdp,helper:xdp:bpf_redirect,misc:bounded_loops"; an error message on bad syntax.
std::variant<std::vector<requirement>, std::string> parse_requirements(const std::string& list);

struct require_outcome {
  int code = exit_ok;
  std::vector<std::string> lines;  // one per requirement: "<text>: <status> (reason)"
};
require_outcome check_requirements(prober& p, const std::vector<requirement>& reqs);

// `bpfprobe diff A B`: prints what differs between two --json reports; exit 0 same, 1 different,
// 2 when a file cannot be read or is not a report.
int diff_reports(std::ostream& out, std::ostream& err, const std::string& a_path, const std::string& b_path);

// `bpfprobe check FILE...` (src/check.cpp): exit 0 all programs load, 1 one does not, 3 one is
// unknown, 2 an input is not a readable BPF object or --prog names no program.
struct check_request {
  std::vector<std::string> files;
  bool json = false, no_load = false;
  std::vector<std::string> programs;
  unsigned threads = 0;
};
int run_check(std::ostream& out, std::ostream& err, const check_request& req);

}  // namespace bpfprobe::cli
