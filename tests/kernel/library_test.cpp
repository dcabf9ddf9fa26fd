// The library through its public headers only (bpfprobe/prober.hpp, report/render_*.hpp; no probing
// code in this translation unit): lazy queries and the complete report agree with the CLI, the
// renderers run on it, and a moved-from prober's verdicts stay with the new owner. Built twice: against
// the compiled library (library_tests) and in the header-only mode with its implementation file
// (library_header_only_tests).
#include <gtest/gtest.h>

#include <bpfprobe/prober.hpp>
#include <bpfprobe/report/render_json.hpp>
#include <bpfprobe/report/render_stream.hpp>
#include <sstream>

#include "run.hpp"

// The public header declares only, in both modes: no libbpf and no probing code reached this file.
#if defined(__LIBBPF_LIBBPF_H) || defined(BPFPROBE_IMPLEMENTATION)
#error "bpfprobe/prober.hpp pulled the probing code into an application's source file"
#endif

namespace bpfprobe::testing {
namespace {

TEST(Library, LazyQueriesAgreeWithTheCli) {
  auto cli = cli_json();
  prober p;
  for (const char* type : {"socket_filter", "xdp", "kprobe", "syscall"}) {
    if (!cli["program_types"].contains(type)) continue;
    EXPECT_EQ(to_string(p.prog_type(type).state), cli["program_types"][type]["status"].get<std::string>()) << type;
  }
  for (const char* map : {"hash", "ringbuf", "arena"}) {
    if (!cli["map_types"].contains(map)) continue;
    EXPECT_EQ(to_string(p.map_type(map).state), cli["map_types"][map]["status"].get<std::string>()) << map;
  }
  auto redirect = p.helper("xdp", "bpf_redirect");
  EXPECT_EQ(to_string(redirect.state), cli["helpers"]["xdp"]["bpf_redirect"]["status"].get<std::string>());
  auto missing = p.prog_type("no_such_type");
  EXPECT_EQ(missing.state, status::unsupported);
  EXPECT_FALSE(missing.reason.empty());
}

TEST(Library, CompleteReportHasEverySectionTheCliPrints) {
  auto cli = cli_json();
  prober_options opt;
  opt.threads = 2;
  prober first(opt);
  prober p = std::move(first);
  report r = complete_report(p);
  EXPECT_EQ(r.kernel.release, cli["kernel"]["release"].get<std::string>());
  EXPECT_EQ(r.program_types.size(), cli["program_types"].size());
  EXPECT_EQ(r.map_types.size(), cli["map_types"].size());
  EXPECT_EQ(r.attach.size(), cli["attach"].size());
  EXPECT_EQ(r.compat.size(), cli["compat"].size());
  for (const auto& f : r.program_types)
    EXPECT_EQ(to_string(f.v.state), cli["program_types"][f.name]["status"].get<std::string>()) << f.name;
  ASSERT_NE(find_fact(r.misc, "bounded_loops"), nullptr);
  // The library's JSON is the CLI's, section for section.
  auto mine = nlohmann::json::parse(render::json(r));
  for (const char* section : {"program_types", "map_types", "misc", "links"})
    for (const auto& [name, f] : mine[section].items())
      EXPECT_EQ(f["status"], cli[section][name]["status"]) << section << "/" << name;
  std::ostringstream md;
  render::markdown(md, r);
  EXPECT_NE(md.str().find("## Attach paths"), std::string::npos);
}

}  // namespace
}  // namespace bpfprobe::testing
