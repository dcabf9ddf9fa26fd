// The library's report renderers on a fixed report (no kernel): every status, hostile text in
// reasons, compat and attach sections. Only the light public headers are included.
#include <gtest/gtest.h>

#include <bpfprobe/report/render_json.hpp>
#include <bpfprobe/report/render_stream.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

namespace bpfprobe {
namespace {

report sample() {
  report r;
  r.kernel.release = "6.1.0-test";
  r.kernel.btf = "/sys/kernel/btf/vmlinux";
  r.kernel.lockdown = "integrity";
  r.kernel.jit_enable = 1;
  r.names_source = "kernel BTF";
  r.program_types = {{"socket_filter", verdict::yes(), "3.19", "89aa075832b0"},
                     {"xdp", verdict::no("verifier said: a|b <x>", EINVAL, "R1 invalid mem access")},
                     {"kprobe", verdict::unknown("not permitted", EPERM)}};
  r.map_types = {{"hash", verdict::yes()}, {"ringbuf", verdict::no("no such map type", EINVAL)}};
  r.helpers = {{"socket_filter", {{"bpf_map_lookup_elem", verdict::yes()}, {"bpf_redirect", verdict::no("nope")}}},
               {"xdp", {{"bpf_map_lookup_elem", verdict::no("program type unsupported")}}}};
  r.misc = {{"bounded_loops", verdict::yes()}};
  r.more = {{"kfuncs", {{"bpf_rdonly_cast", verdict::yes()}}}};
  fact cfg{"CONFIG_HZ", verdict::yes()};
  cfg.attrs.emplace_back("value", "250");
  r.config = {cfg};
  r.compat = {{"dynptr_size", "raw_tracepoint", "unavailable", {{"kfunc", verdict::no("no kfunc")}}},
              {"task_pid", "raw_tracepoint", "core", {{"core", verdict::yes()}}}};
  r.attach = {{"xdp",
               {{"bpf_link", verdict::no("no xdp link"), {"link:xdp"}}, {"netlink", verdict::yes(), {"prog:xdp"}}},
               "netlink",
               {}}};
  return r;
}

TEST(Render, MarkdownHasSummaryTablesAndEscapesCells) {
  std::ostringstream out;
  render::markdown(out, sample());
  auto md = out.str();
  EXPECT_NE(md.find("# BPF features of Linux 6.1.0-test"), std::string::npos);
  // The summary links each section to its heading's anchor, with its tally.
  EXPECT_NE(md.find("| [Program types](#program-types) | 1 | 1 | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| [Helpers](#helpers) | 1 | 2 | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("\n## Program types\n"), std::string::npos);
  EXPECT_NE(md.find("\n## Kfuncs\n"), std::string::npos);
  // A '|' in a reason stays inside its cell, '<' is no HTML, the errno has its name.
  EXPECT_NE(md.find("verifier said: a\\|b &lt;x&gt; (EINVAL)"), std::string::npos) << md;
  EXPECT_NE(md.find("| `kprobe` | ❔ unknown | not permitted (EPERM) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `socket_filter` | ✅ supported |  | 3.19 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `dynptr_size` | ❌ unavailable |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `xdp` | `netlink` |"), std::string::npos) << md;
  // Every table row has as many cells as its header.
  std::istringstream lines(md);
  std::size_t columns = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with('|')) {
      columns = 0;
      continue;
    }
    std::size_t bars = 0;
    for (std::size_t i = 0; i < line.size(); ++i)
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++bars;
    if (columns == 0) columns = bars;
    EXPECT_EQ(bars, columns) << line;
  }
}

TEST(Render, MacrosDefineSupportedAndUnsupportedButNeverGuessUnknown) {
  std::ostringstream out;
  render::macros(out, sample());
  auto m = out.str();
  EXPECT_NE(m.find("#define HAVE_SOCKET_FILTER_PROG_TYPE\n"), std::string::npos);
  EXPECT_NE(m.find("#define NO_HAVE_XDP_PROG_TYPE\n"), std::string::npos);
  EXPECT_EQ(m.find("define HAVE_KPROBE_PROG_TYPE"), std::string::npos);
  EXPECT_EQ(m.find("define NO_HAVE_KPROBE_PROG_TYPE"), std::string::npos);
  EXPECT_NE(m.find("/* unknown: HAVE_KPROBE_PROG_TYPE (not permitted) */"), std::string::npos);
  EXPECT_NE(m.find("#define BPF__PROG_TYPE_socket_filter__HELPER_bpf_redirect 0\n"), std::string::npos);
  EXPECT_NE(m.find("#define BPFPROBE_ATTACH_XDP_NETLINK 1\n"), std::string::npos);
  EXPECT_NE(m.find("#define CONFIG_HZ 250\n"), std::string::npos);
}

TEST(Render, JsonKeepsEveryStatusAndReason) {
  auto j = nlohmann::json::parse(render::json(sample()));
  EXPECT_EQ(j["kernel"]["release"], "6.1.0-test");
  EXPECT_EQ(j["program_types"]["xdp"]["status"], "unsupported");
  EXPECT_EQ(j["program_types"]["xdp"]["errno"], "EINVAL");
  EXPECT_EQ(j["program_types"]["kprobe"]["status"], "unknown");
  EXPECT_EQ(j["compat"]["dynptr_size"]["tier"], "unavailable");
  EXPECT_EQ(j["attach"]["xdp"]["chosen"], "netlink");
  auto one_line = render::json(sample(), -1);
  EXPECT_EQ(one_line.find('\n'), std::string::npos);
  auto b = nlohmann::json::parse(render::bpftool_json(sample()));
  EXPECT_EQ(b["program_types"]["have_socket_filter_prog_type"], true);
  EXPECT_EQ(b["program_types"]["have_xdp_prog_type"], false);
  EXPECT_TRUE(b["program_types"]["have_kprobe_prog_type"].is_null());  // unknown is never false
  EXPECT_EQ(b["helpers"]["socket_filter_available_helpers"], nlohmann::json::array({"bpf_map_lookup_elem"}));
}

TEST(Render, TextColoursOnlyWhenAsked) {
  std::ostringstream plain, coloured;
  render::text(plain, sample());
  render::text(coloured, sample(), {.color = true, .verbose = true});
  EXPECT_EQ(plain.str().find('\033'), std::string::npos);
  EXPECT_NE(coloured.str().find("\033[31m"), std::string::npos);
  EXPECT_NE(plain.str().find("xdp"), std::string::npos);
  EXPECT_NE(plain.str().find("not permitted"), std::string::npos);
}

}  // namespace
}  // namespace bpfprobe
