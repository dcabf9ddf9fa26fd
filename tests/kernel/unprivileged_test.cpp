// Without privileges nothing root finds supported may be called unsupported: the unprivileged run
// says unknown with a reason (or supported). Runs the CLI as root and as nobody without capabilities.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

// The CLI copied to a directory anyone may enter (the build tree may not be).
class Unprivileged : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root to compare a root run with an unprivileged one";
    if (run({"setpriv", "--help"}).code != 0) GTEST_SKIP() << "setpriv (util-linux) not installed";
    dir_ = std::make_unique<temp_dir>();
    ASSERT_EQ(chmod(dir_->path().c_str(), 0755), 0);
    cli_ = (dir_->path() / "bpfprobe").string();
    std::filesystem::copy_file(cli_path(), cli_);
    std::filesystem::permissions(cli_, std::filesystem::perms(0755));
  }

  run_result as_nobody(std::vector<std::string> args) {
    std::vector<std::string> argv{
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", cli_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  std::unique_ptr<temp_dir> dir_;
  std::string cli_;
};

TEST_F(Unprivileged, NothingRootFindsSupportedIsUnsupported) {
  auto root = run({cli_, "--json"});
  ASSERT_EQ(root.code, 0) << root.err;
  auto nobody = as_nobody({"--json"});
  ASSERT_EQ(nobody.code, 0) << nobody.err;
  auto root_json = nlohmann::json::parse(root.out);
  auto nobody_json = nlohmann::json::parse(nobody.out);
  ASSERT_EQ(nobody_json["kernel"]["euid"], 65534);
  ASSERT_EQ(root_json["kernel"]["euid"], 0);

  std::map<std::string, const nlohmann::json*> theirs;
  for (const auto& [where, f] : all_facts(nobody_json)) theirs[where] = f;
  int compared = 0, root_supported = 0, still_supported = 0;
  for (const auto& [where, f] : all_facts(root_json)) {
    auto it = theirs.find(where);
    // Without bpf_kfunc tags the kfunc list is what load probes prove; unprivileged they cannot, and
    // the report says how many candidates stayed undecided instead of listing them.
    if (it == theirs.end() && where.rfind("kfuncs/", 0) == 0 &&
        nobody_json["kernel"]["kfunc_list"]["source"] == "load probes") {
      EXPECT_GT(nobody_json["kernel"]["kfunc_list"]["undecided"].get<int>(), 0) << where;
      continue;
    }
    ASSERT_NE(it, theirs.end()) << where << " missing from the unprivileged report";
    const auto& mine = *it->second;
    ++compared;
    // Unsupported without privileges must be unsupported with them too.
    if (mine["status"] == "unsupported") {
      EXPECT_EQ((*f)["status"], "unsupported") << where << ": unprivileged says unsupported ("
                                               << mine.value("reason", "") << "), root says " << (*f)["status"];
    }
    if ((*f)["status"] != "supported") continue;
    ++root_supported;
    if (mine["status"] == "supported") {
      ++still_supported;
      continue;
    }
    EXPECT_EQ(mine["status"], "unknown") << where;
    EXPECT_FALSE(mine.value("reason", "").empty()) << where << ": unknown without a reason";
  }
  EXPECT_GT(compared, 1000);
  EXPECT_GT(root_supported, 100);
  // With unprivileged BPF disabled nothing that needs bpf() can be supported; with it enabled
  // some things are. Either way most of what root proves must be unknown here.
  EXPECT_LT(still_supported, root_supported);
}

TEST_F(Unprivileged, RequireOfAnUnknownFactExitsThree) {
  auto root = run({cli_, "--require", "prog:socket_filter,map:array"});
  ASSERT_EQ(root.code, 0) << root.out << root.err;
  // Which facts are unknown without privileges depends on unprivileged_bpf_disabled: pick one.
  auto nobody_json = nlohmann::json::parse(as_nobody({"--json"}).out);
  std::string feature;
  for (const auto& [name, f] : nobody_json["map_types"].items())
    if (feature.empty() && f["status"] == "unknown") feature = "map:" + name;
  for (const auto& [name, f] : nobody_json["program_types"].items())
    if (f["status"] == "unknown" && name == "socket_filter") feature = "prog:socket_filter";
  if (feature.empty()) GTEST_SKIP() << "no program or map type is unknown without privileges here";
  auto r = as_nobody({"--require", feature});
  EXPECT_EQ(r.code, 3) << feature << ": " << r.out << r.err;
  EXPECT_NE(r.out.find("unknown"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bpfprobe::testing
