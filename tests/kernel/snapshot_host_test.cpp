// `bpfprobe snapshot` of this host, read back: the verdicts are the report's, the BTF is the live
// kernel's (type counts, module set), the kallsyms names and config are the kernel's; the same kernel
// gives the same bytes (fresh probes, a filled cache, read from it); the CLI's --show refuses a cut file.
#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <bpfprobe/catalog/system.hpp>
#include <bpfprobe/check/snapshot.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

struct made {
  std::string bytes;
  double seconds = 0;
};

class SnapshotHost : public ::testing::Test {
 protected:
  // CTest runs each test in a process of its own: the suite makes one snapshot, and the determinism
  // test two more.
  static made make(const std::string& name, std::vector<std::string> flags) {
    flags.insert(flags.end(), {"snapshot", "-o", (*dir_ / name).string()});
    auto start = std::chrono::steady_clock::now();
    auto r = run_cli(flags);
    made m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, 0) << r.err;
    if (r.code == 0) m.bytes = read_file(*dir_ / name);
    return m;
  }
  static void SetUpTestSuite() {
    dir_ = new temp_dir;
    // A matrix guest has just made this kernel's snapshot with the same bpfprobe (matrix/guest/init.sh,
    // for check --target on the host): read that one rather than spend another half minute under TCG.
    if (const char* made_here = std::getenv("BPFPROBE_TEST_SNAPSHOT"); made_here && *made_here) {
      std::filesystem::copy_file(made_here, *dir_ / "fresh.snap");
      fresh_ = new made{read_file(*dir_ / "fresh.snap"), 0};
      return;
    }
    fresh_ = new made(make("fresh.snap", {"--no-cache"}));
  }
  static void TearDownTestSuite() {
    delete fresh_;
    delete dir_;
  }
  static const snapshot::kernel_snapshot& snap() {
    static auto parsed = snapshot::kernel_snapshot::parse(fresh_->bytes);
    if (auto* e = std::get_if<std::string>(&parsed)) throw std::runtime_error(*e);
    return std::get<snapshot::kernel_snapshot>(parsed);
  }
  static inline temp_dir* dir_ = nullptr;
  static inline made* fresh_ = nullptr;
};

TEST_F(SnapshotHost, SameKernelSameBytes) {
  ASSERT_FALSE(fresh_->bytes.empty());
  std::string cache = (*dir_ / "cache").string();
  auto filling = make("filling.snap", {"--cache-dir", cache});
  auto cached = make("cached.snap", {"--cache-dir", cache});
  EXPECT_TRUE(fresh_->bytes == filling.bytes) << "fresh probes and a run filling the cache differ";
  EXPECT_TRUE(fresh_->bytes == cached.bytes) << "fresh probes and a run with the cache filled differ";
  std::printf("snapshot: %zu bytes; made in %.2f s (no cache), %.2f s (filling), %.2f s (cache filled)\n",
              fresh_->bytes.size(), fresh_->seconds, filling.seconds, cached.seconds);
}

TEST_F(SnapshotHost, IdentityIsThisKernel) {
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(snap().release(), u.release);
  EXPECT_EQ(snap().version(), u.version);
  EXPECT_EQ(snap().machine(), u.machine);
  EXPECT_EQ(snap().meta_value("euid"), std::to_string(geteuid()));
  std::ifstream lockdown("/sys/kernel/security/lockdown");
  std::string l;
  if (std::getline(lockdown, l)) {
    EXPECT_EQ(snap().meta_value("lockdown"), l);
  }
  std::ifstream unpriv("/proc/sys/kernel/unprivileged_bpf_disabled");
  std::string u2;
  if (std::getline(unpriv, u2)) {
    EXPECT_EQ(snap().meta_value("unprivileged_bpf_disabled"), u2);
  }
}

TEST_F(SnapshotHost, VerdictsAreTheReports) {
  auto report = run_cli_json({"--no-cache"});
  std::size_t compared = 0;
  for (const auto& [key, f] : all_facts(report)) {
    auto slash = key.find('/');
    auto v = snap().verdict_of(key.substr(0, slash), key.substr(slash + 1));
    if (!v) {
      ADD_FAILURE() << key << " is in the report but not in the snapshot";
      continue;
    }
    EXPECT_EQ(to_string(v->state), (*f)["status"].get<std::string>()) << key;
    EXPECT_EQ(v->reason, f->value("reason", "")) << key;  // an empty reason is left out
    ++compared;
  }
  EXPECT_GT(compared, 500u);
  // The fact-key lookup the check uses, against --require on the live kernel.
  for (std::string key :
       {"prog:xdp", "map:ringbuf", "helper:xdp:bpf_redirect", "misc:bounded_loops", "prog:tracing", "link:tracing"}) {
    auto v = snap().verdict_of(std::get<fact_key>(fact_key::parse(key)));
    ASSERT_TRUE(v) << key;
    auto r = run_cli({"--no-cache", "--require", key});
    EXPECT_NE(r.out.find(std::string(": ") + std::string(to_string(v->state))), std::string::npos)
        << key << ": " << r.out;
  }
}

// The embedded report says what the rows say, and keeps no evidence of a supported verdict (it names
// ids of the writer's run).
TEST_F(SnapshotHost, EmbeddedReportAgreesWithTheRows) {
  auto embedded = nlohmann::json::parse(snap().report_json());
  std::size_t compared = 0;
  for (const auto& [key, f] : all_facts(embedded)) {
    auto slash = key.find('/');
    auto v = snap().verdict_of(key.substr(0, slash), key.substr(slash + 1));
    ASSERT_TRUE(v) << key;
    EXPECT_EQ(to_string(v->state), (*f)["status"].get<std::string>()) << key;
    EXPECT_EQ(v->evidence, f->value("evidence", "")) << key;
    if (v->supported()) {
      EXPECT_EQ(v->evidence, "") << key;
    }
    ++compared;
  }
  EXPECT_GT(compared, 500u);
  EXPECT_EQ(embedded["kernel"], run_cli_json({"--no-cache"})["kernel"]);
}

TEST_F(SnapshotHost, BtfIsTheLiveKernels) {
  struct btf* live = btf__load_vmlinux_btf();
  if (!live) GTEST_SKIP() << "no vmlinux BTF here";
  ASSERT_NE(snap().vmlinux_btf(), nullptr);
  EXPECT_EQ(btf__type_cnt(snap().vmlinux_btf()), btf__type_cnt(live));
  int id = btf__find_by_name_kind(live, "task_struct", BTF_KIND_STRUCT);
  EXPECT_EQ(btf__find_by_name_kind(snap().vmlinux_btf(), "task_struct", BTF_KIND_STRUCT), id);
  std::set<std::string> modules;
  for (const auto& e : std::filesystem::directory_iterator("/sys/kernel/btf"))
    if (e.path().filename() != "vmlinux") modules.insert(e.path().filename().string());
  EXPECT_EQ(snap().module_btfs().size(), modules.size());
  for (const auto& m : modules) {
    struct btf* lm = btf__load_module_btf(m.c_str(), live);
    const struct btf* sm = snap().module_btf(m);
    ASSERT_NE(sm, nullptr) << m;
    if (lm) {
      EXPECT_EQ(btf__type_cnt(sm), btf__type_cnt(lm)) << m;
    }
    btf__free(lm);
  }
  btf__free(live);
}

TEST_F(SnapshotHost, KallsymsAndConfigAreTheKernels) {
  EXPECT_TRUE(snap().kallsyms().readable);
  // What comes and goes (BPF programs and trampolines, "[bpf]") is left out; every other name is kept.
  std::ifstream in("/proc/kallsyms");
  std::string line;
  std::size_t checked = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string addr, type, name, module;
    words >> addr >> type >> name >> module;
    if (module == "[bpf]" || module.starts_with("[__builtin")) continue;
    EXPECT_TRUE(snap().kallsyms().names.contains(name)) << name;
    // No address is kept: a real address is in neither the names nor the report.
    if (checked++ < 100 && addr.find_first_not_of('0') != std::string::npos) {
      EXPECT_FALSE(snap().kallsyms().names.contains(addr));
      EXPECT_EQ(snap().report_json().find(addr), std::string::npos);
    }
  }
  // Data symbols are listed when a variable is (init_task is one on every kernel), not for the section
  // markers (__start_rodata) kallsyms lists without CONFIG_KALLSYMS_ALL.
  EXPECT_EQ(snap().data_symbols_listed(), snap().kallsyms().names.contains("init_task"));
  if (snap().config().values.contains("CONFIG_KALLSYMS")) {
    EXPECT_EQ(snap().data_symbols_listed(), snap().config().values.contains("CONFIG_KALLSYMS_ALL"));
  }
  utsname u{};
  uname(&u);
  auto config = probe::read_kernel_config(u.release);
  EXPECT_EQ(snap().config().source, config.source);
  EXPECT_TRUE(snap().config().values == config.values);
}

TEST_F(SnapshotHost, ShowReadsItAndRefusesACutFile) {
  auto path = (*dir_ / "fresh.snap").string();
  auto ok = run_cli({"snapshot", "--show", path});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("release: "), std::string::npos) << ok.out;
  auto cut = (*dir_ / "cut.snap").string();
  write_file(cut, fresh_->bytes.data(), fresh_->bytes.size() / 2);
  auto bad = run_cli({"snapshot", "--show", cut});
  EXPECT_EQ(bad.code, snapshot::exit_bad_snapshot) << bad.out << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("truncated"), std::string::npos) << bad.err;
  auto dir = run_cli({"snapshot", "--show", dir_->path().string()});
  EXPECT_EQ(dir.code, snapshot::exit_bad_snapshot);
  EXPECT_NE(dir.err.find("not a regular file"), std::string::npos) << dir.err;
  auto none = run_cli({"snapshot"});
  EXPECT_EQ(none.code, 2) << "neither -o nor --show is a usage error";
}

}  // namespace
}  // namespace bpfprobe::testing
