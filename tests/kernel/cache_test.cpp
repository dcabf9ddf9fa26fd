// The persistent verdict cache on the running kernel: a second prober answers from it, a file made for
// another kernel, privilege set or catalog, or one that cannot be trusted, is ignored and replaced, and
// the report's statuses are the same cold, warm and without the cache.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfprobe/bpfprobe.hpp>
#include <map>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

namespace persist = probe::persist;
namespace fs = std::filesystem;

probe::options in(const fs::path& dir) {
  probe::options o;
  o.cache.dir = dir;
  return o;
}

// A cache file for this key that claims prog_type/xdp is unsupported: whoever reads it says so.
std::string planted(const std::string& key) {
  persist::contents c;
  c.verdicts["prog_type/xdp"] = verdict::no("planted by the test", EINVAL);
  return persist::serialize(key, c);
}

void put(const fs::path& file, const std::string& bytes, mode_t mode = 0600) {
  fs::create_directories(file.parent_path());
  write_file(file, bytes.data(), bytes.size());
  ASSERT_EQ(::chmod(file.c_str(), mode), 0);
}

std::string real_xdp_reason() {
  probe::options o;
  o.cache.enabled = false;
  prober p(o);
  return p.prog_type("xdp").reason;
}

class Cache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root to load probes";
    ::unsetenv("BPFPROBE_NO_CACHE");
  }
  temp_dir dir_;
};

TEST_F(Cache, ASecondProberAnswersFromTheFileTheFirstWrote) {
  verdict first;
  fs::path file;
  {
    prober p(in(dir_.path()));
    first = p.prog_type("xdp");
    ASSERT_TRUE(first.conclusive()) << first.reason;
    EXPECT_EQ(p.cache_hits(), 0u);
    file = p.cache_file();
  }
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  prober again(in(dir_.path()));
  verdict second = again.prog_type("xdp");
  EXPECT_EQ(again.cache_hits(), 1u);
  EXPECT_EQ(second.state, first.state);
  EXPECT_EQ(second.reason, first.reason);
  EXPECT_EQ(second.evidence, first.evidence);
}

TEST_F(Cache, AValidFileIsBelievedWhichIsWhyItsKeyMatters) {
  auto key = persist::cache_key(in(dir_.path()));
  put(persist::file_for(dir_.path(), key), planted(key));
  prober p(in(dir_.path()));
  EXPECT_EQ(p.prog_type("xdp").reason, "planted by the test");
}

// Kernel identity, privileges and catalog version are all lines of the key: a file made for a
// different value of any of them (a different kernel, euid, capability set, catalog) is ignored.
TEST_F(Cache, AFileForAnotherKernelPrivilegeOrCatalogIsIgnoredAndReplaced) {
  auto key = persist::cache_key(in(dir_.path()));
  auto file = persist::file_for(dir_.path(), key);
  std::string real = real_xdp_reason();
  for (const char* line : {"release=", "build_id=", "btf=", "boot_id=", "euid=", "caps=", "lockdown=", "catalog=",
                           "unprivileged_bpf_disabled=", "schema="}) {
    auto at = key.find(std::string("\n") + line);
    if (std::string_view(line) == "schema=") at = 0;
    ASSERT_NE(at, std::string::npos) << line;
    std::string other = key;
    other.insert(key.find('=', at) + 1, "other-");
    put(file, planted(other));
    {
      prober p(in(dir_.path()));
      verdict v = p.prog_type("xdp");
      EXPECT_EQ(v.reason, real) << line;
      EXPECT_EQ(p.cache_hits(), 0u) << line;
    }
    auto c = persist::load(file, key);
    ASSERT_TRUE(c) << line << ": not replaced";
    EXPECT_EQ(c->verdicts.at("prog_type/xdp").reason, real) << line;
  }
}

TEST_F(Cache, AnUntrustedOrBrokenFileIsIgnoredAndReplaced) {
  auto key = persist::cache_key(in(dir_.path()));
  auto file = persist::file_for(dir_.path(), key);
  std::string good = planted(key), real = real_xdp_reason();
  auto victim = dir_ / "victim";
  put(victim, good);
  struct variant {
    const char* what;
    std::function<void()> make;
  };
  std::vector<variant> variants = {
      {"owned by another uid",
       [&] {
         put(file, good);
         ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
       }},
      {"world-writable", [&] { put(file, good, 0666); }},
      {"group-writable", [&] { put(file, good, 0660); }},
      {"truncated", [&] { put(file, good.substr(0, good.size() - 3)); }},
      {"garbage", [&] { put(file, std::string(4096, '\x5a')); }},
      {"empty", [&] { put(file, ""); }},
      {"symlink",
       [&] {
         fs::remove(file);
         fs::create_symlink(victim, file);
       }},
  };
  for (const auto& v : variants) {
    v.make();
    {
      prober p(in(dir_.path()));
      EXPECT_EQ(p.prog_type("xdp").reason, real) << v.what;
      EXPECT_EQ(p.cache_hits(), 0u) << v.what;
    }
    struct stat st {};
    ASSERT_EQ(::lstat(file.c_str(), &st), 0) << v.what;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << v.what;
    EXPECT_EQ(st.st_uid, ::geteuid()) << v.what;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << v.what;
    auto c = persist::load(file, key);
    ASSERT_TRUE(c) << v.what << ": not replaced";
    EXPECT_EQ(c->verdicts.at("prog_type/xdp").reason, real) << v.what;
  }
  EXPECT_EQ(read_file(victim), good) << "the symlink's target was written through";
}

TEST_F(Cache, ATransientUnknownIsNeverStored) {
  fs::path file;
  const std::vector<int> transient{EAGAIN, ENOMEM, EBUSY, ENOENT, EACCES, EINTR, 0};
  {
    prober p(in(dir_.path()));
    for (int e : transient)
      EXPECT_FALSE(p.remember("test/unknown/" + std::to_string(e), [e] {
                      return verdict::unknown("transient", e);
                    }).conclusive());
    EXPECT_TRUE(p.remember("test/yes", [] { return verdict::yes(); }).supported());
    file = p.cache_file();
  }
  auto c = persist::load(file, persist::cache_key(in(dir_.path())));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verdicts.count("test/yes"), 1u);
  for (int e : transient) EXPECT_EQ(c->verdicts.count("test/unknown/" + std::to_string(e)), 0u) << e;
  // The next prober computes them again.
  prober p(in(dir_.path()));
  int calls = 0;
  for (int e : transient)
    p.remember("test/unknown/" + std::to_string(e), [&] { return ++calls, verdict::unknown("again"); });
  EXPECT_EQ(calls, static_cast<int>(transient.size()));
}

// With CAP_BPF but without CAP_NET_ADMIN and CAP_SYS_ADMIN the kernel refuses an XDP load with EPERM:
// unknown, and stable while the capabilities (in the key) stay. (CAP_BPF is kept so that the prober
// can learn that the EPERM is not RLIMIT_MEMLOCK: misc/memcg_accounting creates a map.) The child stores it and
// answers from the file the next time; the parent, with its capabilities, has another key and
// probes for itself.
TEST_F(Cache, AnUnknownOfMissingPrivilegeIsStoredUnderItsKey) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) _exit(10);
    for (int cap : {CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN}) data[cap / 32].effective &= ~(1u << (cap % 32));
    if (::syscall(SYS_capset, &hdr, data) != 0) _exit(11);
    std::string out;
    {
      prober p(in(dir_.path()));
      verdict v = p.prog_type("xdp");
      out +=
          std::string(to_string(v.state)) + " " + std::to_string(v.err) + " " + std::to_string(p.cache_hits()) + "\n";
    }
    prober again(in(dir_.path()));
    verdict v = again.prog_type("xdp");
    out +=
        std::string(to_string(v.state)) + " " + std::to_string(v.err) + " " + std::to_string(again.cache_hits()) + "\n";
    (void)!::write(fds[1], out.data(), out.size());
    _exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(got, "unknown " + std::to_string(EPERM) + " 0\nunknown " + std::to_string(EPERM) + " 1\n");
  prober p(in(dir_.path()));
  EXPECT_TRUE(p.prog_type("xdp").supported()) << "the child's unknown reached a process with another key";
  EXPECT_EQ(p.cache_hits(), 0u);
}

TEST_F(Cache, OffMeansNeitherReadNorWritten) {
  auto o = in(dir_.path());
  o.cache.enabled = false;
  {
    prober p(o);
    p.prog_type("xdp");
    EXPECT_TRUE(p.cache_file().empty());
  }
  EXPECT_TRUE(fs::is_empty(dir_.path()));
  ::setenv("BPFPROBE_NO_CACHE", "1", 1);
  {
    prober p(in(dir_.path()));
    p.prog_type("xdp");
  }
  ::unsetenv("BPFPROBE_NO_CACHE");
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(Cache, FaultInjectionNeverReachesTheCache) {
  struct failing : sys::syscalls {
    long bpf(int, union bpf_attr*, unsigned int) noexcept override { return errno = EINVAL, -1; }
  } fail;
  {
    sys::scoped_syscalls guard(fail);
    prober p(in(dir_.path()));
    p.prog_type("xdp");
    p.map_type("hash");
  }
  EXPECT_TRUE(fs::is_empty(dir_.path()));
  // Also when the override comes after the first query and is gone before the prober saves.
  {
    prober p(in(dir_.path()));
    p.prog_type("xdp");
    {
      sys::scoped_syscalls guard(fail);
      p.map_type("hash");
    }
    EXPECT_FALSE(p.save_cache());
  }
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

// Every "status" in a --json report, by its path.
void collect_statuses(const nlohmann::json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    if (auto it = j.find("status"); it != j.end() && it->is_string()) out[path] = *it;
    for (const auto& [k, v] : j.items())
      if (path.empty() || k != "kernel") collect_statuses(v, path + "/" + k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) collect_statuses(j[i], path + "/" + std::to_string(i), out);
  }
}

std::map<std::string, std::string> report_statuses(const std::vector<std::string>& args,
                                                   const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_cli(argv, env);
  EXPECT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::string> out;
  collect_statuses(nlohmann::json::parse(r.out), "", out);
  return out;
}

void expect_same(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b,
                 const char* what) {
  EXPECT_EQ(a.size(), b.size()) << what;
  std::size_t shown = 0;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if ((it == b.end() || it->second != v) && shown++ < 20)
      ADD_FAILURE() << what << ": " << k << " " << v << " vs " << (it == b.end() ? "missing" : it->second);
  }
}

TEST_F(Cache, ReportStatusesAreTheSameColdWarmAndWithout) {
  std::string d = "--cache-dir=" + dir_.path().string();
  auto without = report_statuses({"--no-cache"});
  auto cold = report_statuses({d, "--refresh"});
  ASSERT_FALSE(fs::is_empty(dir_.path()));
  auto warm = report_statuses({d});
  auto warm_env = report_statuses({}, {"BPFPROBE_CACHE_DIR=" + dir_.path().string()});
  ASSERT_GT(without.size(), 1000u);
  expect_same(without, cold, "cold vs --no-cache");
  expect_same(cold, warm, "warm vs cold");
  expect_same(cold, warm_env, "warm (BPFPROBE_CACHE_DIR) vs cold");
  // --require answers from the same file (facts every matrix kernel has: raw_tracepoint links are 5.8).
  auto req = run_cli({d, "--require", "prog:xdp,helper:xdp:bpf_redirect,link:raw_tracepoint,map:hash"});
  EXPECT_EQ(req.code, 0) << req.out << req.err;
}

TEST_F(Cache, TwoProcessesFillingAtOnceLeaveAValidFile) {
  std::string d = "--cache-dir=" + dir_.path().string();
  std::vector<pid_t> kids;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::string cli = cli_path();
      execl(cli.c_str(), cli.c_str(), "--json", d.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  auto files = std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator{});
  EXPECT_EQ(files, 1) << "one file, no temporary left";
  prober p(in(dir_.path()));
  auto file = p.cache_file();
  auto c = persist::load(file, persist::cache_key(in(dir_.path())));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->report);
  auto warm = report_statuses({d});
  auto without = report_statuses({"--no-cache"});
  expect_same(without, warm, "warm after two writers vs --no-cache");
}

TEST_F(Cache, ShowAndClear) {
  std::string d = "--cache-dir=" + dir_.path().string();
  auto show = run_cli({d, "cache", "show"});
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("state: absent"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("  boot_id="), std::string::npos) << show.out;
  ASSERT_EQ(run_cli({d, "--require", "prog:xdp"}).code, 0);
  show = run_cli({"cache", "show", d});
  EXPECT_NE(show.out.find("state: valid"), std::string::npos) << show.out;
  auto clear = run_cli({"cache", "clear"}, {"BPFPROBE_CACHE_DIR=" + dir_.path().string()});
  EXPECT_EQ(clear.code, 0) << clear.err;
  EXPECT_NE(clear.out.find("removed 1 file"), std::string::npos) << clear.out;
  EXPECT_TRUE(fs::is_empty(dir_.path()));
  EXPECT_EQ(run_cli({"cache", "bogus"}).code, 2);
  EXPECT_EQ(run_cli({"--cache-dir="}).code, 2);
}

}  // namespace
}  // namespace bpfprobe::testing
