// --require handling, exit codes and `diff` for the bpfprobe CLI (the report renderers are in the
// library: bpfprobe/report/render_*.hpp).
#pragma once

#include <bpfprobe/bpfprobe.hpp>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace bpfprobe::cli {

// Exit codes (documented in --help and the README).
enum exit_code : int {
  exit_ok = 0,
  exit_unsupported = 1,  // --require: a feature is unsupported
  exit_usage = 2,        // bad flags, unreadable or corrupt --btf file, unknown feature name
  exit_unknown = 3,      // --require: a feature could not be decided
  exit_failure = 4,      // the report itself could not be produced
};

struct requirement {
  std::string text;  // as the user wrote it, escaped
  fact_key key;
};

// Parses "prog:xdp,helper:xdp:bpf_redirect,misc:bounded_loops"; an error message on bad syntax.
std::variant<std::vector<requirement>, std::string> parse_requirements(const std::string& list);

struct require_outcome {
  int code = exit_ok;
  std::vector<std::string> lines;  // one per requirement: "<text>: <status> (reason)"
};
require_outcome check_requirements(prober& p, const std::vector<requirement>& reqs);

// `bpfprobe --list-keys[=PREFIX]` (hidden; for shell completion): the fact keys the catalog knows, one
// a line. No prefix: the families ("prog:"); "map" or "map:ri": every map key; "helper:xdp" (a family
// with a second part after a name): every "helper:xdp:HELPER". Exit 2 for an unknown family.
int list_keys(std::ostream& out, prober& p, std::string_view prefix);

// `bpfprobe diff A B`: prints what differs between two --json reports; exit 0 same, 1 different,
// 2 when a file cannot be read or is not a report.
int diff_reports(std::ostream& out, std::ostream& err, const std::string& a_path, const std::string& b_path);

// `bpfprobe check FILE...` (src/check.cpp): exit 0 all programs load, 1 one does not, 3 one is
// unknown, 2 an input is not a readable BPF object or --prog names no program.
struct check_request {
  std::vector<std::string> files;
  bool json = false, no_load = false;
  std::string format = "text";  // text, json (= --json), github, junit, sarif
  std::vector<std::string> programs;
  unsigned threads = 0;
  std::vector<std::string> targets;  // kernel snapshots to check for instead of this kernel
  probe::options prober_options;
};
int run_check(std::ostream& out, std::ostream& err, const check_request& req);

}  // namespace bpfprobe::cli
