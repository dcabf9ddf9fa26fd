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

  // As nobody with only CAP_BPF and CAP_PERFMON (ambient, so they survive the exec).
  run_result as_bpf_perfmon(std::vector<std::string> args) {
    std::vector<std::string> argv{"setpriv",
                                  "--reuid=65534",
                                  "--regid=65534",
                                  "--clear-groups",
                                  "--inh-caps=-all,+bpf,+perfmon",
                                  "--ambient-caps=-all,+bpf,+perfmon",
                                  "--bounding-set=-all,+bpf,+perfmon",
                                  cli_};
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

// With CAP_BPF and CAP_PERFMON but neither CAP_NET_ADMIN nor CAP_SYS_ADMIN the kernel refuses network
// and cgroup program types (bpf_prog_load: is_net_admin_prog_type): the reason names CAP_NET_ADMIN,
// not the CAP_BPF this process has. Tracing types, which want CAP_PERFMON, stay as root sees them.
TEST_F(Unprivileged, PartialCapabilitiesNameTheMissingOne) {
  if (run({"setpriv", "--list-caps"}).out.find("perfmon") == std::string::npos)
    GTEST_SKIP() << "this setpriv does not know CAP_PERFMON/CAP_BPF";
  auto r = as_bpf_perfmon({"--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto root = nlohmann::json::parse(run({cli_, "--json"}).out);
  int net_admin = 0;
  for (const char* t : {"xdp", "sched_cls", "sched_act", "cgroup_sock", "cgroup_sock_addr", "sock_ops", "sk_msg"}) {
    SCOPED_TRACE(t);
    if (root["program_types"][t]["status"] != "supported") continue;
    const auto& f = j["program_types"][t];
    EXPECT_EQ(f["status"], "unknown");
    std::string reason = f.value("reason", "");
    EXPECT_NE(reason.find("CAP_NET_ADMIN"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("needs CAP_BPF/CAP_SYS_ADMIN"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("CAP_BPF"), std::string::npos) << "this process has CAP_BPF: " << reason;
    ++net_admin;
  }
  EXPECT_GE(net_admin, 5);
  // Types that need only CAP_BPF (and CAP_PERFMON) load as they do for root.
  for (const char* t : {"socket_filter", "cgroup_skb", "sk_reuseport", "kprobe", "tracepoint", "raw_tracepoint"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(j["program_types"][t]["status"], root["program_types"][t]["status"])
        << j["program_types"][t].value("reason", "");
  }
}

// Unprivileged, every kfunc call probe is refused before the verifier runs: the reason must say that
// nothing could be tried, never that program types were tried and refused it.
TEST_F(Unprivileged, KfuncReasonsSayNothingCouldBeTried) {
  auto j = nlohmann::json::parse(as_nobody({"--json"}).out);
  if (j["program_types"]["syscall"]["status"] == "supported") GTEST_SKIP() << "unprivileged BPF loads here";
  ASSERT_TRUE(j.contains("kfuncs"));
  // Without bpf_kfunc tags (5.10, 6.1) only what a load proves is listed: nothing here, and the
  // reason the candidates stayed undecided is reported instead.
  const auto& list = j["kernel"]["kfunc_list"];
  if (list["source"] == "load probes") {
    EXPECT_GT(list["undecided"].get<int>(), 0);
    std::string reason = list.value("undecided_reason", "");
    EXPECT_NE(reason.find("nothing could be tried"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("tried)"), std::string::npos) << reason;
  }
  int checked = list["source"] == "load probes" ? 1 : 0;
  for (const auto& [name, f] : j["kfuncs"].items()) {
    std::string reason = f.value("reason", "");
    EXPECT_EQ(f["status"], "unknown") << name << ": " << reason;
    EXPECT_EQ(reason.find("tried)"), std::string::npos) << name << ": " << reason;
    EXPECT_NE(reason.find("nothing could be tried"), std::string::npos) << name << ": " << reason;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace bpfprobe::testing
