// current_task, probe_read_kernel and ktime_boot, once per tier, from a raw_tracepoint program that
// BPF_PROG_TEST_RUN runs in this thread: pid, tgid and the parent's tgid must be gettid(), getpid()
// and getppid() in every tier; the time must be on the clock the tier documents.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <optional>

#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_linked.skel.h"
#include "compat_task.skel.h"

using namespace compat_test;

namespace {

std::uint64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct observed {
  task_result r{};
  std::uint64_t boot_before = 0, boot_after = 0, mono_before = 0, mono_after = 0;
};

observed run(const loaded<compat_task>& l) {
  observed o;
  o.boot_before = now_ns(CLOCK_BOOTTIME);
  o.mono_before = now_ns(CLOCK_MONOTONIC);
  EXPECT_TRUE(test_run(l.skel->progs.task_fields));
  o.mono_after = now_ns(CLOCK_MONOTONIC);
  o.boot_after = now_ns(CLOCK_BOOTTIME);
  o.r = l.skel->bss->task_result;
  return o;
}

class TaskTier : public tier_test<compat_task> {};

TEST_P(TaskTier, SameAsBestTier) {
  observed expect = run(best);
  observed got = run(forced);

  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  for (const observed* o : {&expect, &got}) {
    ASSERT_TRUE(o->r.ran);
    EXPECT_EQ(o->r.pid, tid);
    EXPECT_EQ(o->r.tgid, getpid());
    EXPECT_EQ(o->r.parent_tgid, getppid());
    EXPECT_EQ(o->r.read_err, 0);
    EXPECT_EQ(o->r.read_pid, tid);
  }
  EXPECT_EQ(got.r.pid, expect.r.pid);
  EXPECT_EQ(got.r.tgid, expect.r.tgid);
  EXPECT_EQ(got.r.parent_tgid, expect.r.parent_tgid);
  EXPECT_EQ(got.r.read_pid, expect.r.read_pid);

  // Time: the best tier is CLOCK_BOOTTIME. The monotonic fallback is the same clock less the time
  // spent suspended, which user space sees as CLOCK_BOOTTIME - CLOCK_MONOTONIC.
  auto on_clock = [](const observed& o, std::uint32_t t) {
    if (t == BPFPROBE_KTIME_BOOT) {
      EXPECT_GE(o.r.boot_ns, o.boot_before);
      EXPECT_LE(o.r.boot_ns, o.boot_after);
    } else {
      EXPECT_GE(o.r.boot_ns, o.mono_before);
      EXPECT_LE(o.r.boot_ns, o.mono_after);
      std::uint64_t suspended = o.boot_before - o.mono_before;
      EXPECT_GE(o.r.boot_ns + suspended, o.boot_before - (o.mono_after - o.mono_before));
      EXPECT_LE(o.r.boot_ns + suspended, o.boot_after + (o.mono_after - o.mono_before));
    }
  };
  on_clock(expect, best.choice("ktime_boot").tier);
  on_clock(got, forced.choice("ktime_boot").tier);
}

INSTANTIATE_TEST_SUITE_P(Compat, TaskTier,
                         testing::ValuesIn(tiers_of({"current_task", "probe_read_kernel", "ktime_boot"})), case_name);

TEST(TaskCompat, SelectionCoversOnlyTheAccessorsInTheObject) {
  auto l = open_and_load<compat_task>();
  ASSERT_EQ(l.load_err, 0) << l.log;
  std::vector<std::string> names;
  for (const auto& c : l.sel.choices) names.push_back(c.accessor);
  EXPECT_EQ(names, (std::vector<std::string>{"current_task", "probe_read_kernel", "ktime_boot"}));
  EXPECT_EQ(l.sel.prog_types, std::vector<std::string>{"raw_tracepoint"});
}

TEST(TaskCompat, ConfigureWritesTheFlagsIntoRodata) {
  auto l = open_and_load<compat_task>({{"current_task", "probe_read"}, {"ktime_boot", "auto"}});
  EXPECT_EQ(l.skel->rodata->bpfprobe_tier_current_task, static_cast<std::uint32_t>(BPFPROBE_TASK_PROBE_READ));
  EXPECT_EQ(l.skel->rodata->bpfprobe_tier_ktime_boot, static_cast<std::uint32_t>(BPFPROBE_TIER_AUTO));
  EXPECT_EQ(l.skel->rodata->bpfprobe_tier_probe_read_kernel, l.choice("probe_read_kernel").tier);
  EXPECT_TRUE(l.choice("current_task").forced);
  EXPECT_FALSE(l.choice("probe_read_kernel").forced);
}

TEST(TaskCompat, RefusesALoadedObjectAndUnknownNames) {
  auto l = open_and_load<compat_task>();
  ASSERT_EQ(l.load_err, 0) << l.log;
  auto again = compat::configure(shared_prober(), l.skel.get());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EBUSY) << again.error().describe();

  std::unique_ptr<compat_task, void (*)(compat_task*)> fresh(compat_task::open(), compat_task::destroy);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(compat::configure(shared_prober(), fresh.get(), {.force = {{"no_such_accessor", "kfunc"}}}));
  EXPECT_FALSE(compat::configure(shared_prober(), fresh.get(), {.force = {{"current_task", "no_such_tier"}}}));
}

// Two compilation units linked into one object share one set of tier flags.
TEST(TaskCompat, LinkedObjectSharesTheFlags) {
  auto l = open_and_load<compat_linked>({{"current_task", "probe_read"}});
  COMPAT_REQUIRE_LOADED(l);
  std::vector<std::string> names;
  for (const auto& c : l.sel.choices) names.push_back(c.accessor);
  EXPECT_EQ(names, (std::vector<std::string>{"current_task", "probe_read_kernel", "ktime_boot"}));
  EXPECT_EQ(l.skel->rodata->bpfprobe_tier_current_task, static_cast<std::uint32_t>(BPFPROBE_TASK_PROBE_READ));
  EXPECT_TRUE(test_run(l.skel->progs.task_fields));
  EXPECT_TRUE(test_run(l.skel->progs.linked_extra));
  EXPECT_EQ(l.skel->bss->task_result.tgid, getpid());
  EXPECT_EQ(l.skel->bss->extra_seen_tier, static_cast<std::uint32_t>(BPFPROBE_TASK_PROBE_READ));
}

TEST(TaskCompat, ParseForce) {
  auto f = compat::parse_force("loop=unrolled,,output=perf");
  ASSERT_TRUE(f) << f.error().describe();
  EXPECT_EQ(f.value(), (compat::force_map{{"loop", "unrolled"}, {"output", "perf"}}));
  EXPECT_FALSE(compat::parse_force("loop"));
  EXPECT_FALSE(compat::parse_force("loop=sideways"));
  EXPECT_FALSE(compat::parse_force("nothing=auto"));
  EXPECT_TRUE(compat::parse_force("current_task=unavailable"));
}

}  // namespace
