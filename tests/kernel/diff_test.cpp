// `bpfprobe diff A.json B.json` on real reports: the same report twice is no difference; a changed
// status, a fact only in one report and a changed attach choice are each named with their reasons;
// unreadable or hostile input is one line and exit 2, never a hang or an injected line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

void save(const std::filesystem::path& p, const nlohmann::json& j) {
  std::string text = j.dump();
  write_file(p, text.data(), text.size());
}

TEST(Diff, SameReportIsNoDifference) {
  if (!is_root()) GTEST_SKIP() << "needs a full report as root";
  temp_dir dir;
  save(dir / "a.json", cli_json());
  auto r = run_cli({"diff", (dir / "a.json").string(), (dir / "a.json").string()});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 changed, 0 only in A, 0 only in B"), std::string::npos) << r.out;
}

TEST(Diff, NamesEveryChangeWithItsReason) {
  if (!is_root()) GTEST_SKIP() << "needs a full report as root";
  temp_dir dir;
  auto a = cli_json();
  auto b = a;
  ASSERT_TRUE(b["program_types"].contains("socket_filter"));
  b["program_types"]["socket_filter"] = {{"status", "unsupported"}, {"reason", "made up for the test"}};
  ASSERT_TRUE(b["map_types"].contains("array"));
  b["map_types"].erase("array");
  b["misc"]["invented_fact"] = {{"status", "unknown"}, {"reason", "not permitted (EPERM)"}};
  b["attach"]["xdp"]["chosen"] = nullptr;
  save(dir / "a.json", a);
  save(dir / "b.json", b);
  auto r = run_cli({"diff", (dir / "a.json").string(), (dir / "b.json").string()});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("~ program_types/socket_filter: supported -> unsupported (made up for the test)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("- map_types/array: only in A: supported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ misc/invented_fact: only in B: unknown (not permitted (EPERM))"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("~ attach/xdp: path "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 changed, 1 only in A, 1 only in B"), std::string::npos) << r.out;
}

TEST(Diff, BadInputIsOneLineAndExitTwo) {
  temp_dir dir;
  std::string good = (dir / "good.json").string();
  save(good, {{"program_types", {{"xdp", {{"status", "supported"}}}}}});
  std::string garbage = (dir / "garbage.json").string(), array = (dir / "array.json").string();
  write_file(garbage, "{\"program_types\": ", 18);
  write_file(array, "[1,2]", 5);
  std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string evil = (dir / "bad\nname").string();
  for (const auto& bad : {(dir / "missing.json").string(), dir.path().string(), fifo, garbage, array, evil}) {
    auto r = run_cli({"diff", good, bad});
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // A hostile fact name in a report is printed escaped: one line per fact.
  save(dir / "evil.json", {{"misc", {{"x\n#error injected", {{"status", "supported"}}}}}});
  auto r = run_cli({"diff", good, (dir / "evil.json").string()});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.out.find("\n#error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x\\n#error injected"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bpfprobe::testing
