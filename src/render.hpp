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

}  // namespace bpfprobe::cli
