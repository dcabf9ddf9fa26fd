// kprobe/kretprobe, uprobe/uretprobe and tracepoint programs attached through the chosen path and
// every path forced by policy (and, for the perf paths, both event sources: PMU and tracefs).
// Proof: the program counts only events of this process, and the trigger (a syscall, a call of a
// function of this binary, prctl(PR_SET_NAME)) moves it by exactly that many; link info or
// BPF_TASK_FD_QUERY shows what is attached. After the drop the link or event is gone and the
// counter stands still. Paths the running kernel lacks skip with the decide layer's reason.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include "common.hpp"

extern "C" [[gnu::noinline]] int bpfprobe_attach_test_target(int x) {
  asm volatile("" : "+r"(x));
  return x * 2;
}

namespace bpfprobe::testing {
namespace {

struct trace_case {
  std::string path;  // "" = the chosen path
  attach::event_source source = attach::event_source::automatic;
  bool retprobe = false;
};

void PrintTo(const trace_case& c, std::ostream* os) {
  *os << (c.path.empty() ? "chosen" : c.path) << " events " << to_string(c.source) << (c.retprobe ? " retprobe" : "");
}

std::string case_name(const ::testing::TestParamInfo<trace_case>& i) {
  std::string n = i.param.path.empty() ? "chosen" : i.param.path;
  if (i.param.source != attach::event_source::automatic) n += "_" + std::string(to_string(i.param.source));
  if (i.param.retprobe) n += "_ret";
  return n;
}

// Why the forced event source is not available here (the test then skips); nullopt when it is.
std::optional<std::string> source_missing(std::string_view kind, attach::event_source s) {
  if (s == attach::event_source::automatic) return std::nullopt;
  std::string key = s == attach::event_source::pmu ? "mechanism:" + std::string(kind) + "_pmu"
                                                   : "mechanism:" + std::string(kind) + "_events_tracefs";
  verdict v = facts()(key);
  if (v.supported()) return std::nullopt;
  return key + " is " + std::string(to_string(v.state)) + ": " + v.reason;
}

// Checks the kernel's view of an attachment: a link of `link_type`, or (perf_ioctl) a perf event
// carrying our program as `fd_types`. Returns the link id (0 for perf_ioctl).
std::uint32_t check_attached(const attach::attachment& a, std::uint32_t prog, std::uint32_t link_type,
                             std::initializer_list<std::uint32_t> fd_types) {
  if (a.path() == decide::path::perf_ioctl) {
    auto q = task_fd_query(a.fd());
    EXPECT_TRUE(q) << (q ? "" : q.error().describe());
    if (!q) return 0;
    EXPECT_EQ(q.value().prog_id, prog);
    EXPECT_NE(std::find(fd_types.begin(), fd_types.end(), q.value().fd_type), fd_types.end())
        << "fd_type " << q.value().fd_type;
    return 0;
  }
  auto info = sys::link_info(a.fd());
  EXPECT_TRUE(info) << (info ? "" : info.error().describe());
  if (!info) return 0;
  EXPECT_EQ(info.value().type, link_type) << a.path();
  EXPECT_EQ(info.value().prog_id, prog);
  return info.value().id;
}

void check_detached(std::uint32_t link_id, const std::string& tracefs_event) {
  if (link_id) {
    for (int i = 0; i < 200 && link_exists(link_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(link_exists(link_id)) << "link " << link_id << " survived the drop";
  }
  if (!tracefs_event.empty()) {
    // Where tracefs is not mounted the library made its event through a private mount; so does this check.
    auto fs = sys::tracefs::locate();
    ASSERT_TRUE(fs) << fs.error().describe();
    EXPECT_FALSE(std::filesystem::exists(fs.value().path() + "/events/" + tracefs_event))
        << "tracefs event " << tracefs_event << " left behind";
  }
}

// ---------------------------------------------------------------- uprobe

// The uprobe and kprobe tests: as root, where the path `want` (the parameter's, or the one decide/
// chooses) and the forced event source are supported, a program body that counts this process's
// events into `map`.
class ProbeAttach : public ::testing::TestWithParam<trace_case> {
 protected:
  using decide_fn = decide::choice (*)(const decide::lookup&, bool);
  ProbeAttach(std::string_view kind, decide_fn decide) : kind_(kind), decide_(decide) {}
  void SetUp() override {
    BPFPROBE_REQUIRE_ROOT();
    const auto& param = GetParam();
    choice = decide_(facts(), param.retprobe);
    want = param.path.empty() ? choice.chosen : param.path;
    if (want.empty()) GTEST_SKIP() << no_path_reasons(choice);
    BPFPROBE_REQUIRE_PATH(choice, want);
    if (auto why = source_missing(kind_, param.source)) GTEST_SKIP() << *why;
    map = counter_map();
    body = counting_program(map.get(), 0, {filter::this_process});
  }
  // Forces the parameter's path (none: the chosen one) and event source.
  [[nodiscard]] attach::policy forced() const {
    attach::policy pol = forcing(GetParam().path);
    pol.events = GetParam().source;
    return pol;
  }

  decide::choice choice;
  std::string want;
  sys::unique_fd map;
  program body;

 private:
  std::string_view kind_;
  decide_fn decide_;
};

class UprobeAttach : public ProbeAttach {
 protected:
  UprobeAttach() : ProbeAttach("uprobe", &decide::uprobe) {}
};

TEST_P(UprobeAttach, CountsCallsAndDetachesOnDrop) {
  const auto& param = GetParam();

  attach::uprobe_programs progs;
  sys::unique_fd multi, plain;
  if (param.path.empty() || want == decide::path::uprobe_multi) {
    auto p = load({.type = BPF_PROG_TYPE_KPROBE, .expected_attach_type = BPF_TRACE_UPROBE_MULTI}, body);
    if (want == decide::path::uprobe_multi) {
      ASSERT_TRUE(p) << describe(p.error());
    }
    if (p) multi = std::move(p).value(), progs.uprobe_multi = multi.get();
  }
  if (want != decide::path::uprobe_multi) {
    auto p = load({.type = BPF_PROG_TYPE_KPROBE}, body);
    ASSERT_TRUE(p) << describe(p.error());
    plain = std::move(p).value();
    progs.uprobe = plain.get();
  }
  auto target = attach::uprobe_target::of(reinterpret_cast<const void*>(&bpfprobe_attach_test_target), param.retprobe);
  ASSERT_TRUE(target) << target.error().describe();

  std::uint32_t link_id = 0;
  std::string event;
  int (*volatile fn)(int) = &bpfprobe_attach_test_target;
  {
    auto a = attach::uprobe(choice, progs, target.value(), forced());
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    int prog = want == decide::path::uprobe_multi ? progs.uprobe_multi : progs.uprobe;
    link_id = check_attached(a.value(), prog_id(prog),
                             want == decide::path::uprobe_multi ? BPF_LINK_TYPE_UPROBE_MULTI : BPF_LINK_TYPE_PERF_EVENT,
                             {param.retprobe ? BPF_FD_TYPE_URETPROBE : BPF_FD_TYPE_UPROBE});
    event = a.value().detail("event");
    if (param.source == attach::event_source::tracefs) {
      EXPECT_FALSE(event.empty());
    }
    for (int i = 0; i < 4; ++i) fn(i);
    EXPECT_EQ(counter(map), 4u) << "uprobe program did not count the calls";
  }
  check_detached(link_id, event);
  fn(7);
  EXPECT_EQ(counter(map), 4u);
}

INSTANTIATE_TEST_SUITE_P(Paths, UprobeAttach,
                         ::testing::Values(trace_case{""}, trace_case{"uprobe_multi"},
                                           trace_case{"uprobe_multi", attach::event_source::automatic, true},
                                           trace_case{"perf_link", attach::event_source::pmu},
                                           trace_case{"perf_link", attach::event_source::pmu, true},
                                           trace_case{"perf_ioctl", attach::event_source::pmu},
                                           trace_case{"perf_link", attach::event_source::tracefs},
                                           trace_case{"perf_ioctl", attach::event_source::tracefs},
                                           trace_case{"perf_ioctl", attach::event_source::tracefs, true}),
                         case_name);

// Where the kernel lacks a uprobe path the report rules out (uprobe_multi before 6.6, perf_event
// links before 5.15), forcing it first gets the kernel's own answer (EINVAL) and the attach falls
// back to the next path that works. Runs on such kernels (the matrix); skips where all work.
TEST(UprobeFallback, KernelAnswerForAMissingPathFallsBack) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::uprobe(facts());
  const decide::candidate *missing = nullptr, *working = nullptr;
  for (const auto& c : choice.candidates) {
    if (!missing && c.v.state == status::unsupported) missing = &c;
    if (missing && !working && c.v.supported()) working = &c;
  }
  if (!missing || !working) GTEST_SKIP() << "no unsupported uprobe path followed by a supported one on this kernel";
  auto map = counter_map();
  auto body = counting_program(map.get(), 0, {filter::this_process});
  auto multi = load({.type = BPF_PROG_TYPE_KPROBE, .expected_attach_type = BPF_TRACE_UPROBE_MULTI}, body);
  auto plain = load({.type = BPF_PROG_TYPE_KPROBE}, body);
  ASSERT_TRUE(plain) << describe(plain.error());
  if (!multi && missing->path == "uprobe_multi")
    GTEST_SKIP() << "a uprobe_multi program does not even load here: " << multi.error().describe();
  attach::uprobe_programs progs{multi ? multi.value().get() : -1, plain.value().get()};
  auto target = attach::uprobe_target::of(reinterpret_cast<const void*>(&bpfprobe_attach_test_target));
  ASSERT_TRUE(target);
  attach::policy pol;
  pol.force = {missing->path, working->path};
  auto a = attach::uprobe(choice, progs, target.value(), pol);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a.value().path(), working->path) << attempts_of(a.value());
  ASSERT_EQ(a.value().attempts().size(), 2u);
  EXPECT_EQ(a.value().attempts()[0].what, attach::attempt::kind::failed);
  EXPECT_EQ(a.value().attempts()[0].err, EINVAL) << attempts_of(a.value());
  int (*volatile fn)(int) = &bpfprobe_attach_test_target;
  fn(1);
  fn(2);
  EXPECT_EQ(counter(map), 2u);
}

// ---------------------------------------------------------------- kprobe

// A kernel function this process can call at will, with BTF (for fentry) and a kallsyms name.
std::optional<std::pair<std::string, std::uint32_t>> syscall_function() {
  return probe::first_func(shared_prober().context(), {"__x64_sys_getpgid", "__arm64_sys_getpgid", "__se_sys_getpgid"});
}

class KprobeAttach : public ProbeAttach {
 protected:
  KprobeAttach() : ProbeAttach("kprobe", &decide::kprobe) {}
};

TEST_P(KprobeAttach, CountsSyscallsAndDetachesOnDrop) {
  const auto& param = GetParam();
  auto fn = syscall_function();
  if (!fn) GTEST_SKIP() << "no getpgid syscall function in kernel BTF";

  attach::kprobe_programs progs;
  loaded_programs loaded;
  bool any = param.path.empty();
  if (any || want == decide::path::fentry || want == decide::path::fexit)
    loaded.take(
        load({.type = BPF_PROG_TYPE_TRACING,
              .expected_attach_type = static_cast<std::uint32_t>(param.retprobe ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY),
              .attach_btf_id = fn->second},
             body),
        progs.fentry, !any);
  if (any || want == decide::path::kprobe_multi)
    loaded.take(load({.type = BPF_PROG_TYPE_KPROBE, .expected_attach_type = BPF_TRACE_KPROBE_MULTI}, body),
                progs.kprobe_multi, !any);
  if (any || want == decide::path::perf_link || want == decide::path::perf_ioctl)
    loaded.take(load({.type = BPF_PROG_TYPE_KPROBE}, body), progs.kprobe, !any);
  if (HasFatalFailure()) return;

  std::uint32_t link_id = 0;
  std::string event;
  {
    auto a = attach::kprobe(choice, progs, {fn->first, 0, param.retprobe}, forced());
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    int prog = want == decide::path::fentry || want == decide::path::fexit ? progs.fentry
               : want == decide::path::kprobe_multi                        ? progs.kprobe_multi
                                                                           : progs.kprobe;
    std::uint32_t type = want == decide::path::fentry || want == decide::path::fexit ? BPF_LINK_TYPE_TRACING
                         : want == decide::path::kprobe_multi                        ? BPF_LINK_TYPE_KPROBE_MULTI
                                                                                     : BPF_LINK_TYPE_PERF_EVENT;
    link_id =
        check_attached(a.value(), prog_id(prog), type, {param.retprobe ? BPF_FD_TYPE_KRETPROBE : BPF_FD_TYPE_KPROBE});
    event = a.value().detail("event");
    for (int i = 0; i < 3; ++i) ::syscall(SYS_getpgid, 0);
    EXPECT_EQ(counter(map), 3u) << "kprobe program did not count the syscalls";
  }
  check_detached(link_id, event);
  ::syscall(SYS_getpgid, 0);
  EXPECT_EQ(counter(map), 3u);
}

INSTANTIATE_TEST_SUITE_P(Paths, KprobeAttach,
                         ::testing::Values(trace_case{""}, trace_case{"fentry"}, trace_case{"kprobe_multi"},
                                           trace_case{"perf_link", attach::event_source::pmu},
                                           trace_case{"perf_ioctl", attach::event_source::pmu},
                                           trace_case{"perf_link", attach::event_source::tracefs},
                                           trace_case{"perf_ioctl", attach::event_source::tracefs},
                                           trace_case{"", attach::event_source::automatic, true},
                                           trace_case{"fexit", attach::event_source::automatic, true},
                                           trace_case{"kprobe_multi", attach::event_source::automatic, true},
                                           trace_case{"perf_link", attach::event_source::pmu, true},
                                           trace_case{"perf_ioctl", attach::event_source::tracefs, true}),
                         case_name);

// ---------------------------------------------------------------- tracepoint

// task:task_rename fires on prctl(PR_SET_NAME); it exists as a raw tracepoint, as btf_trace_task_rename
// and as a tracefs event.
struct renamer {
  char saved[16] = {};
  renamer() { ::prctl(PR_GET_NAME, saved); }
  ~renamer() { ::prctl(PR_SET_NAME, saved); }
  void rename(int n) {
    for (int i = 0; i < n; ++i) ::prctl(PR_SET_NAME, ("bpfprobe-t" + std::to_string(i)).c_str());
  }
};

class TracepointAttach : public ::testing::TestWithParam<std::string> {};

TEST_P(TracepointAttach, CountsRenamesAndDetachesOnDrop) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::tracepoint(facts());
  BPFPROBE_REQUIRE_WANTED(want, choice, GetParam());

  auto map = counter_map();
  auto body = counting_program(map.get(), 0, {filter::this_process});
  attach::tracepoint_programs progs;
  loaded_programs loaded;
  bool any = GetParam().empty();
  if (any || want == decide::path::tp_btf) {
    const auto* k = shared_prober().context().kernel_btf();
    auto id = k ? k->find("btf_trace_task_rename", BTF_KIND_TYPEDEF) : std::nullopt;
    if (!id && want == decide::path::tp_btf) GTEST_SKIP() << "no btf_trace_task_rename in kernel BTF";
    if (id)
      loaded.take(
          load({.type = BPF_PROG_TYPE_TRACING, .expected_attach_type = BPF_TRACE_RAW_TP, .attach_btf_id = *id}, body),
          progs.tp_btf, !any);
  }
  if (any || want == decide::path::raw_tp)
    loaded.take(load({.type = BPF_PROG_TYPE_RAW_TRACEPOINT}, body), progs.raw_tp, !any);
  if (any || want == decide::path::perf_link || want == decide::path::perf_ioctl)
    loaded.take(load({.type = BPF_PROG_TYPE_TRACEPOINT}, body), progs.tracepoint, !any);
  if (HasFatalFailure()) return;

  attach::policy pol = forcing(GetParam());
  std::uint32_t link_id = 0;
  renamer names;
  {
    auto a = attach::tracepoint(choice, progs, {"task", "task_rename"}, pol);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    int prog = want == decide::path::tp_btf   ? progs.tp_btf
               : want == decide::path::raw_tp ? progs.raw_tp
                                              : progs.tracepoint;
    bool raw = want == decide::path::tp_btf || want == decide::path::raw_tp;
    link_id = check_attached(a.value(), prog_id(prog), raw ? BPF_LINK_TYPE_RAW_TRACEPOINT : BPF_LINK_TYPE_PERF_EVENT,
                             {BPF_FD_TYPE_TRACEPOINT});
    names.rename(5);
    EXPECT_EQ(counter(map), 5u) << "tracepoint program did not count the renames";
  }
  check_detached(link_id, {});
  names.rename(2);
  EXPECT_EQ(counter(map), 5u);
}

INSTANTIATE_TEST_SUITE_P(Paths, TracepointAttach, ::testing::Values("", "tp_btf", "raw_tp", "perf_link", "perf_ioctl"),
                         [](const auto& i) { return i.param.empty() ? std::string("chosen") : i.param; });

// syscalls/sys_enter_getpid is a tracefs event with no raw tracepoint of that name: raw_tp answers
// ENOENT and the attach falls back to the perf tracepoint.
TEST(TracepointFallback, RawTpEnoentFallsBackToPerfEvent) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::tracepoint(facts());
  BPFPROBE_REQUIRE_PATH(choice, "raw_tp");
  std::string perf = choice.find("perf_link")->v.supported() ? "perf_link" : "perf_ioctl";
  BPFPROBE_REQUIRE_PATH(choice, perf);
  auto fs = sys::tracefs::locate();
  ASSERT_TRUE(fs) << fs.error().describe();
  if (!fs.value().event_id("syscalls", "sys_enter_getpid"))
    GTEST_SKIP() << "no syscalls/sys_enter_getpid event (kernel without CONFIG_FTRACE_SYSCALLS)";
  auto map = counter_map();
  auto body = counting_program(map.get(), 0, {filter::this_process});
  auto raw = load({.type = BPF_PROG_TYPE_RAW_TRACEPOINT}, body);
  auto tp = load({.type = BPF_PROG_TYPE_TRACEPOINT}, body);
  ASSERT_TRUE(raw && tp);
  attach::policy pol;
  pol.force = {"raw_tp", perf};
  auto a = attach::tracepoint(choice, {.raw_tp = raw.value().get(), .tracepoint = tp.value().get()},
                              {"syscalls", "sys_enter_getpid"}, pol);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a.value().path(), perf) << attempts_of(a.value());
  ASSERT_EQ(a.value().attempts().size(), 2u);
  EXPECT_EQ(a.value().attempts()[0].err, ENOENT);
  for (int i = 0; i < 3; ++i) ::syscall(SYS_getpid);
  EXPECT_EQ(counter(map), 3u);
}

}  // namespace
}  // namespace bpfprobe::testing
