// The report's "attach" section (DESIGN.md contract): every hook with "chosen" (a path or null) and
// "candidates" [{path, status, reason}], and the same choice the library makes in-process.
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common.hpp"

#ifndef BPFPROBE_CLI
#error "BPFPROBE_CLI must name the built bpfprobe binary"
#endif

namespace bpfprobe::testing {
namespace {

std::string run_cli(const std::string& args, int* status) {
  const char* env = std::getenv("BPFPROBE_CLI");
  std::string cmd = std::string(env && *env ? env : BPFPROBE_CLI) + " " + args + " 2>/dev/null";
  std::FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return {};
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
  *status = ::pclose(f);
  return out;
}

TEST(AttachReport, JsonSectionMatchesTheContractAndTheLibrary) {
  BPFPROBE_REQUIRE_ROOT();
  int status = -1;
  auto j = nlohmann::json::parse(run_cli("--json", &status), nullptr, false);
  ASSERT_EQ(status, 0);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_TRUE(j.contains("attach"));
  const auto& attach = j["attach"];
  auto mine = decide::all(facts());
  for (const char* hook : {"xdp", "tc", "cgroup", "kprobe", "uprobe", "tracepoint", "output"}) {
    SCOPED_TRACE(hook);
    ASSERT_TRUE(attach.contains(hook));
    const auto& h = attach[hook];
    ASSERT_TRUE(h.contains("chosen"));
    ASSERT_TRUE(h["candidates"].is_array());
    ASSERT_FALSE(h["candidates"].empty());
    std::string first_supported;
    for (const auto& c : h["candidates"]) {
      ASSERT_TRUE(c["path"].is_string());
      std::string st = c["status"];
      EXPECT_TRUE(st == "supported" || st == "unsupported" || st == "unknown") << st;
      ASSERT_TRUE(c["reason"].is_string());
      if (st != "supported") {
        EXPECT_FALSE(c["reason"].get<std::string>().empty()) << c.dump();
      }
      if (st == "supported" && first_supported.empty()) first_supported = c["path"];
    }
    if (first_supported.empty())
      EXPECT_TRUE(h["chosen"].is_null());
    else
      EXPECT_EQ(h["chosen"], first_supported);
    // The CLI and the library decide alike (unknown verdicts may differ run to run; none here is).
    auto it = std::find_if(mine.begin(), mine.end(), [&](const auto& c) { return c.hook == hook; });
    ASSERT_NE(it, mine.end());
    EXPECT_EQ(h["chosen"].is_null() ? std::string() : h["chosen"].get<std::string>(), it->chosen);
  }
}

TEST(AttachReport, TextAndMacros) {
  BPFPROBE_REQUIRE_ROOT();
  int status = -1;
  std::string text = run_cli("--report --no-color", &status);
  ASSERT_EQ(status, 0);
  EXPECT_NE(text.find("Attach paths"), std::string::npos);
  auto mine = decide::all(facts());
  std::string macros = run_cli("--macros", &status);
  ASSERT_EQ(status, 0);
  for (const auto& c : mine) {
    if (c.chosen.empty()) continue;
    std::string name = c.hook + "_" + c.chosen;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::toupper(ch); });
    EXPECT_NE(macros.find("#define BPFPROBE_ATTACH_" + name + " 1"), std::string::npos) << name;
  }
}

// --require attach:HOOK (a path is chosen) and attach:HOOK:PATH (that path), with the library's answer.
TEST(AttachReport, RequireAttachHooksAndPaths) {
  BPFPROBE_REQUIRE_ROOT();
  auto expected_code = [](const verdict& v) {
    return v.state == status::supported ? 0 : v.state == status::unsupported ? 1 : 3;
  };
  for (const char* hook : {"xdp", "tc", "kprobe", "uprobe"}) {
    auto c = decide::hook(facts(), hook);
    ASSERT_TRUE(c);
    verdict want = decide::hook_verdict(*c);
    int status = -1;
    std::string out = run_cli(std::string("--require attach:") + hook, &status);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), expected_code(want)) << out;
    EXPECT_NE(out.find(std::string("attach:") + hook + ": " + std::string(to_string(want.state))), std::string::npos)
        << out;
    for (const auto& cand : c->candidates) {
      std::string feature = std::string("attach:") + hook + ":" + cand.path;
      out = run_cli("--require " + feature, &status);
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), expected_code(cand.v)) << out;
    }
  }
  int status = -1;
  run_cli("--require attach:nosuchhook", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  run_cli("--require attach:tc:nosuchpath", &status);
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace bpfprobe::testing
