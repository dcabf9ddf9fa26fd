// `bpfprobe check --format github|junit|sarif`: the check's results where CI systems read them —
// one result per program that does not load (and per warning) at the source line that decided it.
#pragma once

#include <bpfprobe/check/model.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::cli {

// Object names and kernel messages as one printable ASCII line (quotes kept), cut after `limit`.
std::string show(std::string_view s, std::size_t limit);

// The rule a result belongs to: the program's failure code (docs/check-json.md), its status without one.
std::string rule_id(const objcheck::program_result& p);

// GitHub Actions workflow commands: "::error file=F,line=L,title=T::message".
void print_github(std::ostream& out, const std::vector<objcheck::object_result>& objects);
// JUnit XML: a test suite per object, a test case per program.
void print_junit(std::ostream& out, const std::vector<objcheck::object_result>& objects);
// SARIF 2.1.0: a rule per failure code, a result per program that does not load and per warning.
void print_sarif(std::ostream& out, const std::vector<objcheck::object_result>& objects);

}  // namespace bpfprobe::cli
