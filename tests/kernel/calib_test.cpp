// The calibration family on the running kernel: each fact that fires here fires (attached, fired by
// its own trigger, read back), the same probe with a trigger that does nothing is never supported
// ("attached but did not fire"), the kprobe family says why it cannot be measured, lockdown is
// unknown and never unsupported, values are cached, the CLI shows the section, and nothing is left.
// Facts skip only on independent evidence (sysfs, BTF, the lockdown file), never on a verdict.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <bpfprobe/bpfprobe.hpp>
#include <bpfprobe/catalog/calibration.hpp>
#include <filesystem>

#include "leftovers.hpp"
#include "run.hpp"

namespace bpfprobe::testing {
namespace {

namespace fs = std::filesystem;

const probe::context& ctx() {
  static probe::context c;
  return c;
}

const probe::calib_probe& row(std::string_view name) {
  const auto* r = probe::find_calib(name);
  if (!r) throw std::runtime_error("no calibration row " + std::string(name));
  return *r;
}

std::string describe(const verdict& v) {
  return std::string(to_string(v.state)) + ": " + v.reason + " [" + v.evidence + "]" +
         (v.value ? " value " + std::to_string(*v.value) : "");
}

verdict with_trigger(std::string_view name) { return probe::run_calib(ctx(), row(name)); }
verdict without_trigger(std::string_view name) { return row(name).run(ctx(), probe::calib_setup::no_trigger); }

bool exists(const char* path) { return access(path, F_OK) == 0; }

// Independent evidence that a fact can fire here: what the kernel itself exposes.
std::string missing_evidence(std::string_view name) {
  if (!is_root()) return "needs root";
  if (name == "tp_btf_fires" && !exists("/sys/kernel/btf/vmlinux")) return "no kernel BTF";
  if (name.starts_with("uprobe") || name.starts_with("uretprobe"))
    if (!exists("/sys/bus/event_source/devices/uprobe")) return "no uprobe PMU in sysfs";
  // bpf_get_attach_cookie and the perf_event link's bpf_cookie came together (7adfc6c9b315, 5.15).
  if (name.ends_with("_cookie") && !btf::kernel_enums::value_of(ctx().enums().helpers, "bpf_get_attach_cookie"))
    return "kernel BTF has no BPF_FUNC_get_attach_cookie";
  if (name == "tcx_fires" && !ctx().attach_type("tcx_ingress")) return "kernel BTF has no BPF_TCX_INGRESS";
  if (name == "ringbuf_delivers" && !ctx().prog_type("raw_tracepoint")) return "no raw_tracepoint program type";
  if (name == "ringbuf_delivers" && !btf::kernel_enums::value_of(ctx().enums().map_types, "ringbuf"))
    return "kernel BTF has no BPF_MAP_TYPE_RINGBUF";
  return {};
}

// The facts that fire on every kernel this project supports, where the kernel has what they need.
class FiresHere : public ::testing::TestWithParam<const char*> {};

TEST_P(FiresHere, WithItsTriggerAndNotWithout) {
  std::string name = GetParam();
  if (auto why = missing_evidence(name); !why.empty()) GTEST_SKIP() << why;
  verdict fired = with_trigger(name);
  EXPECT_EQ(fired.state, status::supported) << name << ": " << describe(fired);
  EXPECT_NE(fired.evidence.find("ran "), std::string::npos) << describe(fired);
  verdict idle = without_trigger(name);
  EXPECT_EQ(idle.state, status::unsupported) << name << " without a trigger: " << describe(idle);
  EXPECT_NE(idle.reason.find("attached but did not fire"), std::string::npos) << describe(idle);
}

INSTANTIATE_TEST_SUITE_P(Calib, FiresHere,
                         ::testing::Values("tracepoint_fires", "raw_tp_fires", "tp_btf_fires", "uprobe_fires",
                                           "uretprobe_fires", "uprobe_cookie", "xdp_fires", "tcx_fires",
                                           "cgroup_skb_fires", "ringbuf_delivers", "ktime_offset"),
                         [](const auto& info) { return std::string(info.param); });

// No row is supported when nothing fires it (whatever the kernel: unknown where it cannot attach).
TEST(Calib, NoRowIsSupportedWithoutItsTrigger) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  for (const auto& r : probe::calib_probes()) {
    verdict v = r.run(ctx(), probe::calib_setup::no_trigger);
    EXPECT_NE(v.state, status::supported) << r.info.name << ": " << describe(v);
    EXPECT_FALSE(v.reason.empty()) << r.info.name;
  }
}

// A program that never ran is "did not fire" only when the kernel counted no skipped run; with skipped
// runs (bpf_prog_info.recursion_misses, injected at the syscall seam on top of the real program info)
// it is unknown, with no errno, so it is not cached.
TEST(Calib, SkippedRunsLeaveItUnknown) {
  struct reports_skipped_runs : sys::syscalls {
    long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept override {
      bool prog_info = cmd == BPF_OBJ_GET_INFO_BY_FD && attr->info.info_len == sizeof(bpf_prog_info);
      long r = real().bpf(cmd, attr, size);
      if (r == 0 && prog_info) reinterpret_cast<bpf_prog_info*>(attr->info.info)->recursion_misses = 3;
      return r;
    }
  };
  for (const char* name : {"tracepoint_fires", "raw_tp_fires"}) {
    if (auto why = missing_evidence(name); !why.empty()) GTEST_SKIP() << why;
    verdict idle = without_trigger(name);
    EXPECT_EQ(idle.state, status::unsupported) << name << ": " << describe(idle);
    EXPECT_NE(idle.reason.find("no skipped run"), std::string::npos) << describe(idle);

    reports_skipped_runs seam;
    sys::scoped_syscalls installed(seam);
    verdict skipped = without_trigger(name);
    EXPECT_EQ(skipped.state, status::unknown) << name << ": " << describe(skipped);
    EXPECT_NE(skipped.reason.find("skipped the program 3 time(s)"), std::string::npos) << describe(skipped);
    EXPECT_EQ(skipped.err, 0) << describe(skipped);
    verdict fired = with_trigger(name);
    EXPECT_EQ(fired.state, status::supported) << name << " fired, skipped runs besides: " << describe(fired);
  }
}

TEST(Calib, UprobeCookieReadsTheCookieSet) {
  if (auto why = missing_evidence("uprobe_cookie"); !why.empty()) GTEST_SKIP() << why;
  verdict v = with_trigger("uprobe_cookie");
  ASSERT_TRUE(v.value) << describe(v);
  EXPECT_EQ(static_cast<std::uint64_t>(*v.value), probe::calib_detail::test_cookie) << describe(v);
}

// realtime - monotonic as this test reads it, against the measured value: within a second.
TEST(Calib, KtimeOffsetIsRealtimeMinusMonotonic) {
  if (auto why = missing_evidence("ktime_offset"); !why.empty()) GTEST_SKIP() << why;
  verdict v = with_trigger("ktime_offset");
  ASSERT_TRUE(v.value) << describe(v);
  timespec rt{}, mono{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  std::int64_t want = (rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
  EXPECT_LT(std::llabs(*v.value - want), 1000000000ll) << describe(v) << " vs " << want;
}

// Without a kprobe PMU and without kprobe_events the kprobe facts are unsupported, and say so.
TEST(Calib, KprobeFactsSayTheKernelHasNoKprobes) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  if (exists("/sys/bus/event_source/devices/kprobe")) GTEST_SKIP() << "this kernel has a kprobe PMU";
  if (!exists("/sys/bus/event_source/devices")) GTEST_SKIP() << "sysfs event_source not readable";
  for (const char* name : {"kprobe_fires", "kretprobe_fires", "kprobe_cookie", "kprobe_ip_offset"}) {
    verdict v = with_trigger(name);
    EXPECT_EQ(v.state, status::unsupported) << name << ": " << describe(v);
    EXPECT_NE(v.reason.find("no kprobes"), std::string::npos) << name << ": " << describe(v);
    EXPECT_FALSE(v.evidence.empty()) << name;
  }
}

// Under lockdown (integrity or confidentiality) trampoline and LSM programs are refused with EPERM:
// unknown, never unsupported.
TEST(Calib, LockdownLeavesTrampolineFactsUnknown) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto text = sys::read_file_text("/sys/kernel/security/lockdown");
  if (!text) GTEST_SKIP() << "no /sys/kernel/security/lockdown";
  if (text.value().find("[none]") != std::string::npos) GTEST_SKIP() << "lockdown is off";
  for (const char* name : {"fentry_fires", "fexit_fires", "lsm_active"}) {
    verdict v = with_trigger(name);
    EXPECT_EQ(v.state, status::unknown) << name << ": " << describe(v);
  }
}

// A calibrated value survives the persistent cache: a second prober answers from it, value included.
TEST(Calib, ValueIsCached) {
  if (auto why = missing_evidence("uprobe_cookie"); !why.empty()) GTEST_SKIP() << why;
  temp_dir dir;
  probe::options opt;
  opt.cache.dir = dir.path();
  verdict first;
  {
    prober p(opt);
    first = p.calibrate("uprobe_cookie");
    ASSERT_EQ(first.state, status::supported) << describe(first);
    ASSERT_TRUE(p.save_cache());
  }
  prober again(opt);
  verdict second = again.calibrate("uprobe_cookie");
  EXPECT_EQ(again.cache_hits(), 1u);
  EXPECT_EQ(second.state, first.state);
  EXPECT_EQ(second.value, first.value);
  EXPECT_EQ(second.evidence, first.evidence);
}

TEST(Calib, UnknownNameIsUnknown) {
  prober p(probe::options{.cache = {.enabled = false}});
  EXPECT_EQ(p.calibrate("no_such_fact").state, status::unknown);
}

// `bpfprobe --calibrate --json`: a "calibration" section with every row, values where measured.
TEST(Calib, CliReportHasTheSection) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto j = run_cli_json({"--no-cache", "--calibrate"});
  ASSERT_TRUE(j.contains("calibration"));
  const auto& s = j["calibration"];
  EXPECT_EQ(s.size(), probe::calib_probes().size());
  for (const auto& r : probe::calib_probes()) {
    ASSERT_TRUE(s.contains(std::string(r.info.name))) << r.info.name;
    const auto& f = s[std::string(r.info.name)];
    EXPECT_TRUE(f.contains("status")) << r.info.name;
    EXPECT_EQ(f["first_kernel"], std::string(r.info.first_kernel));
    if (f["status"] != "supported") {
      EXPECT_FALSE(f["reason"].get<std::string>().empty()) << r.info.name;
    }
    if (!r.unit.empty() && f["status"] == "supported") {
      EXPECT_TRUE(f.contains("value")) << r.info.name;
      EXPECT_EQ(f["unit"], std::string(r.unit)) << r.info.name;
    }
  }
  EXPECT_FALSE(run_cli_json({"--no-cache"}).contains("calibration")) << "only when asked";
}

TEST(Calib, CliRequire) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto ok = run_cli({"--no-cache", "--require", "calib:raw_tp_fires"});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("calib:raw_tp_fires: supported"), std::string::npos) << ok.out;
  auto bad = run_cli({"--no-cache", "--require", "calib:raw_tp_fire"});
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("did you mean raw_tp_fires"), std::string::npos) << bad.out;
}

// Every calibration at once (as --calibrate runs them) leaves no object, cgroup, mount or event.
TEST(Calib, LeavesNothingBehind) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto before = leftovers::now();
  {
    prober p(probe::options{.cache = {.enabled = false}});
    auto s = p.calibration();
    EXPECT_EQ(s.size(), probe::calib_probes().size());
  }
  EXPECT_EQ(settle(before), "");
}

}  // namespace
}  // namespace bpfprobe::testing
