// Nothing outlives a killed run: the CLI and a library user are killed at random moments (SIGKILL
// mostly, also SIGTERM/SIGINT/SIGHUP, part of the time with both CPUs busy), and after each kill the
// kernel and the file system must come back to where they were - BPF objects, cgroups, pins, tracefs
// probe events, mounts, temp files, janitor processes - with no "leaking uprobe" in the kernel log.
// Each kill is checked before the next run starts, so a later run's sweep cannot hide a leak.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <bpfprobe/bpfprobe.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>

#include "leftovers.hpp"

namespace bpfprobe::testing {
namespace {

using clock_type = std::chrono::steady_clock;

int runs_from_env(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::max(1, std::atoi(v)) : fallback;
}

// Two processes spinning on the CPUs while alive.
class cpu_load {
 public:
  cpu_load() {
    for (int i = 0; i < 2; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (unsigned long x = 0;; ++x) asm volatile("" : "+r"(x));
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~cpu_load() {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

 private:
  std::vector<pid_t> pids_;
};

pid_t spawn_cli_quiet(const std::vector<std::string>& args) {
  std::vector<std::string> full{cli_path()};
  full.insert(full.end(), args.begin(), args.end());
  auto argv = exec_args(full);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Runs alternate in pairs (two of one kind, two of the other) so that each kind is killed both with
// and without the CPU load kill_runs adds to every other run.
bool use_cache_this_time() {
  static unsigned n = 0;
  return n++ % 4 >= 2;
}

// A library user: a child computing the full report in-process, half the time without the
// persistent cache and otherwise refreshing it (as spawn_cli_report).
pid_t spawn_library_user() {
  probe::options opt;
  if (use_cache_this_time())
    opt.cache.refresh = true;
  else
    opt.cache.enabled = false;
  pid_t pid = fork();
  if (pid == 0) {
    prober p(opt);
    (void)p.full_report();
    _exit(0);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

struct kill_plan {
  int runs;
  int max_delay_ms;
};

// Starts `spawn()` `plan.runs` times and kills each run after a random delay; after each kill,
// everything must settle back to the snapshot taken before the first run.
void kill_runs(const kill_plan& plan, pid_t (*spawn)(), const char* what) {
  auto before = leftovers::now();
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay(0, plan.max_delay_ms);
  std::uniform_int_distribution<int> pick(0, 9);
  int killed = 0, finished = 0, loaded = 0;
  for (int i = 0; i < plan.runs; ++i) {
    std::optional<cpu_load> load;
    if (i % 2 == 1) {
      load.emplace();
      ++loaded;
    }
    int sig = SIGKILL;
    switch (pick(rng)) {
      case 7: sig = SIGTERM; break;
      case 8: sig = SIGINT; break;
      case 9: sig = SIGHUP; break;
      default: break;
    }
    pid_t pid = spawn();
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    bool alive = kill(pid, sig) == 0;
    int st = wait_status(pid);
    if (alive && WIFSIGNALED(st))
      ++killed;
    else
      ++finished;
    load.reset();
    std::string left = settle(before);
    ASSERT_EQ(left, "") << what << " run " << i << " (signal " << sig << ") left behind:\n" << left;
  }
  std::cout << "[ kill ] " << what << ": " << killed << " killed midway, " << finished
            << " finished before the signal, " << loaded << " under CPU load\n";
  EXPECT_GT(killed, plan.runs / 2) << "most runs should be killed midway; raise the run time or lower the delay";
}

// How long one full run takes here, to spread the kills over it: the shorter of two runs, so that a
// run slowed by other load does not push the kills past the end of most runs.
int full_run_ms(pid_t (*spawn)()) {
  int best = 0;
  for (int i = 0; i < 2; ++i) {
    auto t0 = clock_type::now();
    wait_status(spawn());
    auto ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
    best = i == 0 ? ms : std::min(best, ms);
  }
  return best;
}

// Half the runs probe without the persistent cache (the most objects in flight); the others
// probe everything again and rewrite the cache at the end (--refresh), so kills also land while the
// cache file is written.
pid_t spawn_cli_report() {
  return use_cache_this_time() ? spawn_cli_quiet({"--json", "--refresh"}) : spawn_cli_quiet({"--json", "--no-cache"});
}

TEST(Kill, CliKilledAtRandomMomentsLeavesNothing) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  int ms = full_run_ms(spawn_cli_report);
  kill_runs({runs_from_env("BPFPROBE_KILL_RUNS", 100), std::max(ms, 50)}, spawn_cli_report, "bpfprobe --json");
}

// `--calibrate` attaches programs and fires them (uprobes on our own code, XDP/tcx in a private
// netns, a cgroup a child joins, tracefs mounted privately): killed midway, it leaves nothing either.
pid_t spawn_cli_calibrate() {
  return use_cache_this_time() ? spawn_cli_quiet({"--json", "--refresh", "--calibrate"})
                               : spawn_cli_quiet({"--json", "--no-cache", "--calibrate"});
}

TEST(Kill, CalibrateKilledAtRandomMomentsLeavesNothing) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  int ms = full_run_ms(spawn_cli_calibrate);
  kill_runs({runs_from_env("BPFPROBE_KILL_CALIBRATE_RUNS", 20), std::max(ms, 50)}, spawn_cli_calibrate,
            "bpfprobe --json --calibrate");
}

// The calibration alone (a library user calling prober::calibration()), so that every kill lands
// while calibration programs are attached or being fired.
pid_t spawn_calibration_only() {
  pid_t pid = fork();
  if (pid == 0) {
    prober p(probe::options{.cache = {.enabled = false}});
    (void)p.calibration();
    _exit(0);
  }
  return pid;
}

TEST(Kill, CalibrationKilledWhileFiringLeavesNothing) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  int ms = full_run_ms(spawn_calibration_only);
  kill_runs({runs_from_env("BPFPROBE_KILL_CALIBRATE_RUNS", 20), std::max(ms, 20)}, spawn_calibration_only,
            "library calibration()");
}

TEST(Kill, LibraryUserKilledAtRandomMomentsLeavesNothing) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  int ms = full_run_ms(spawn_library_user);
  kill_runs({runs_from_env("BPFPROBE_KILL_LIBRARY_RUNS", 30), std::max(ms, 50)}, spawn_library_user,
            "library full_report()");
}

// The janitor alone: a process claims a cgroup, a tracefs uprobe event (through a private tracefs
// mount where none is mounted) and a pin on the system bpffs (only where one is mounted: a private
// bpffs dies with its process), then is killed while holding them; the janitor must remove them all.
TEST(Kill, JanitorRemovesWhatAKilledProcessHeld) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto bpffs = sys::mount_point_of("bpf");
  auto before = leftovers::now();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    auto cg = sys::temp_cgroup::create("kill-test");
    auto code = sys::private_code_file::create();
    auto fs = sys::tracefs::locate();
    if (!cg || !code || !fs) _exit(2);
    auto ev = sys::tracefs_probe_event::create(fs.value(), sys::tracefs_probe_event::kind::uprobe,
                                               code.value().path() + ":0x0");
    auto map = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1});
    if (!ev || !map) _exit(3);
    std::optional<sys::scoped_pin> pin;
    if (bpffs) {
      pin.emplace(
          bpffs.value() + "/" + std::string(sys::scoped_pin::name_prefix) + sys::janitor::owner_tag() + "-kill-test",
          /*guard=*/true);
      if (!sys::obj_pin(map.value().get(), pin->path())) _exit(4);
    }
    char ok = 1;
    (void)!write(ready[1], &ok, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1) << "child could not make its cgroup, event and pin";
  close(ready[0]);
  auto held = leftovers::now();
  EXPECT_EQ(held.cgroups.size(), before.cgroups.size() + 1);
  EXPECT_EQ(held.pins.size(), before.pins.size() + (bpffs ? 1 : 0));
  EXPECT_NE(held.uprobe_events, before.uprobe_events);
  kill(pid, SIGKILL);
  wait_status(pid);
  std::string left = settle(before);
  EXPECT_EQ(left, "") << "the janitor left:\n" << left;
}

// A janitor let go when the last claim was released may still be waking up when the next claim is
// made: it must never see (and remove) what the next janitor guards. Held stopped across the hand-over
// so the order is certain.
TEST(Kill, DismissedJanitorNeverTouchesTheNextClaims) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto before = processes_named(sys::janitor::process_name);
  auto first = sys::temp_cgroup::create("handover-1");
  ASSERT_TRUE(first) << first.error().describe();
  std::string old_janitor;  // it names itself a moment after it starts
  for (int i = 0; i < 200 && old_janitor.empty(); ++i) {
    for (const auto& pid : processes_named(sys::janitor::process_name))
      if (!before.contains(pid)) old_janitor = pid;
    if (old_janitor.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(old_janitor.empty()) << "no janitor started for the first claim";
  pid_t j1 = std::stoi(old_janitor);
  ASSERT_EQ(kill(j1, SIGSTOP), 0);
  ASSERT_TRUE(first.value().remove());  // last claim released: the first janitor is let go
  auto second = sys::temp_cgroup::create("handover-2");
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_EQ(kill(j1, SIGCONT), 0);
  for (int i = 0; i < 200 && processes_named(sys::janitor::process_name).contains(old_janitor); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(processes_named(sys::janitor::process_name).contains(old_janitor)) << "the first janitor did not exit";
  EXPECT_EQ(access(second.value().path().c_str(), F_OK), 0) << "the first janitor removed the next claim's cgroup";
}

// The sweep removes what a dead run left and keeps what a live run owns.
TEST(Kill, SweepRemovesOnlyWhatDeadRunsLeft) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto root = sys::cgroup2_mount();
  if (!root) GTEST_SKIP() << "no cgroup2 mount";
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    char c;
    (void)!read(go[0], &c, 1);
    _exit(0);
  }
  close(go[0]);
  std::string dead_tag = std::to_string(pid) + "-" + std::to_string(sys::janitor::start_time_of(pid));
  close(go[1]);
  wait_status(pid);
  std::string dead = root.value() + "/bpfprobe-" + dead_tag + "-0-sweep-test";
  std::string live = root.value() + "/bpfprobe-" + sys::janitor::owner_tag() + "-0-sweep-test";
  std::string foreign = root.value() + "/bpfprobe-not-a-tag-sweep-test";
  for (const auto& d : {dead, live, foreign}) ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d;
  sys::janitor::sweep_dir(root.value(), "bpfprobe-", true);
  EXPECT_NE(access(dead.c_str(), F_OK), 0) << "a dead run's cgroup was kept";
  EXPECT_EQ(access(live.c_str(), F_OK), 0) << "a live run's cgroup was removed";
  EXPECT_EQ(access(foreign.c_str(), F_OK), 0) << "a name without an owner tag was removed";
  rmdir(live.c_str());
  rmdir(foreign.c_str());
  rmdir(dead.c_str());
}

}  // namespace
}  // namespace bpfprobe::testing
