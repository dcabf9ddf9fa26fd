// The CLI's view of the links and attach_mechanisms sections: --require link:TYPE[:ATTACH_TYPE] and
// mechanism:NAME agree with the JSON report, --macros names them HAVE_LINK_* / HAVE_MECHANISM_*, and
// the text report shows both sections.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

const nlohmann::json& report() {
  static const nlohmann::json r = cli_json();
  return r;
}

int expected_exit(const nlohmann::json& fact) {
  std::string s = fact.at("status");
  return s == "supported" ? 0 : s == "unsupported" ? 1 : 3;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

TEST(LinkCli, RequireLinkMatchesTheReport) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  const auto& links = report().at("links");
  ASSERT_FALSE(links.empty());
  for (const auto& [type, f] : links.items()) {
    auto r = run_cli({"--require", "link:" + type});
    // unknown verdicts may turn conclusive on a retry (they are not cached); the others must agree.
    if (f.at("status") != "unknown") {
      EXPECT_EQ(r.code, expected_exit(f)) << type << ": " << r.out << r.err;
    }
    EXPECT_NE(r.out.find("link:" + type + ": "), std::string::npos) << r.out;
  }
}

TEST(LinkCli, RequireLinkAttachTypeMatchesTheLists) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  int checked = 0;
  for (const auto& [type, f] : report().at("links").items()) {
    for (auto [key, code] : {std::pair{"attach_types", 0}, std::pair{"attach_types_unsupported", 1}}) {
      if (!f.contains(key) || f.at(key).empty()) continue;
      std::string attach = f.at(key).front();
      auto r = run_cli({"--require", "link:" + type + ":" + attach});
      EXPECT_EQ(r.code, code) << type << ":" << attach << ": " << r.out << r.err;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(LinkCli, RequireMechanismMatchesTheReport) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  for (const auto& [name, f] : report().at("attach_mechanisms").items()) {
    if (f.at("status") == "unknown") continue;
    auto r = run_cli({"--require", "mechanism:" + name});
    EXPECT_EQ(r.code, expected_exit(f)) << name << ": " << r.out << r.err;
  }
}

TEST(LinkCli, BadLinkRequirementsAreUsageErrors) {
  EXPECT_EQ(run_cli({"--require", "link::tcx_ingress"}).code, 2);
  EXPECT_EQ(run_cli({"--require", "link:tcx:a:b"}).code, 2);
  if (!is_root()) GTEST_SKIP() << "the rest probes the kernel";
  EXPECT_EQ(run_cli({"--require", "link:tcx:no_such_attach_type"}).code, 2);
  EXPECT_EQ(run_cli({"--require", "mechanism:no_such_mechanism"}).code, 2);
}

TEST(LinkCli, MacrosNameEveryLinkAndMechanism) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto r = run_cli({"--macros"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto [section, prefix] : {std::pair{"links", "HAVE_LINK_"}, std::pair{"attach_mechanisms", "HAVE_MECHANISM_"}}) {
    for (const auto& [name, f] : report().at(section).items()) {
      std::string macro = prefix + upper(name);
      std::string s = f.at("status");
      std::string want = s == "supported"     ? "#define " + macro + "\n"
                         : s == "unsupported" ? "#define NO_" + macro + "\n"
                                              : "/* unknown: " + macro + " ";
      EXPECT_NE(r.out.find(want), std::string::npos) << macro;
    }
  }
}

TEST(LinkCli, TextReportShowsTheSections) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto r = run_cli({"--report", "--no-color"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nLinks ("), std::string::npos);
  EXPECT_NE(r.out.find("\nAttach mechanisms ("), std::string::npos);
  EXPECT_NE(r.out.find("attach types:"), std::string::npos);
}

}  // namespace
}  // namespace bpfprobe::testing
