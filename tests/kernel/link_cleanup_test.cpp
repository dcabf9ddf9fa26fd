// Link probes leave nothing behind: no program, map, link or BTF object of theirs, no network
// namespace, cgroup, bpffs pin, tracefs probe event or congestion-control algorithm - also when
// the kernel refuses a call midway. And refusals become the verdicts the rules say.
#include <sys/stat.h>

#include <atomic>
#include <bpfprobe/report/link_report.hpp>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/netns.hpp>
#include <set>

#include "../common/failing_command.hpp"
#include "leftovers.hpp"
#include "link_support.hpp"
#include "run.hpp"

namespace bpfprobe::testing {
namespace {

// What a probe run could leave behind outside the BPF object lists.
struct environment {
  std::set<std::string> run_netns, cgroups, pins;
  std::string uprobe_events, congestion_control;
  std::uint64_t thread_netns = 0;
  friend bool operator==(const environment&, const environment&) = default;
};

environment environment_now() {
  environment e;
  e.run_netns = names_in("/run/netns");
  if (auto cg = sys::cgroup2_mount()) e.cgroups = names_in(cg.value(), "bpfprobe");
  if (auto bpffs = sys::mount_point_of("bpf")) e.pins = names_in(bpffs.value(), "bpfprobe");
  if (auto fs = sys::tracefs::locate()) e.uprobe_events = text_or_empty(fs.value().path() + "/uprobe_events");
  e.congestion_control = text_or_empty("/proc/sys/net/ipv4/tcp_available_congestion_control");
  if (auto ns = sys::open_thread_netns()) e.thread_netns = sys::netns_inode(ns.value().get());
  return e;
}

std::string name_of_prog(std::uint32_t id) {
  sys::unique_fd fd(bpf_prog_get_fd_by_id(id));
  bpf_prog_info info{};
  std::uint32_t len = sizeof(info);
  return fd && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.name : "";
}

std::string name_of_map(std::uint32_t id) {
  sys::unique_fd fd(bpf_map_get_fd_by_id(id));
  bpf_map_info info{};
  std::uint32_t len = sizeof(info);
  return fd && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.name : "";
}

std::vector<std::uint32_t> ids(sys::object_kind k) {
  auto r = sys::object_ids(k);
  return r ? r.value() : std::vector<std::uint32_t>{};
}

std::vector<std::uint32_t> added(const std::vector<std::uint32_t>& before, const std::vector<std::uint32_t>& after) {
  std::vector<std::uint32_t> out;
  for (auto id : after)
    if (std::find(before.begin(), before.end(), id) == before.end()) out.push_back(id);
  return out;
}

// Objects the link probes made (they all carry link_setup::object_name) that still exist.
std::string our_leftovers(const std::vector<std::uint32_t>& progs_before, const std::vector<std::uint32_t>& maps_before,
                          const std::vector<std::uint32_t>& links_before) {
  std::string out;
  const std::string ours = probe::link_setup::object_name;
  for (auto id : added(progs_before, ids(sys::object_kind::prog)))
    if (name_of_prog(id) == ours) out += "prog " + std::to_string(id) + "\n";
  for (auto id : added(maps_before, ids(sys::object_kind::map)))
    if (name_of_map(id) == ours) out += "map " + std::to_string(id) + "\n";
  for (auto id : added(links_before, ids(sys::object_kind::link))) {
    auto l = kernel_link(id);
    if (l && (name_of_prog(l->prog_id) == ours || (l->prog_id == 0 && name_of_map(l->struct_ops.map_id) == ours)))
      out += "link " + std::to_string(id) + "\n";
  }
  return out;
}

class LinkCleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root";
    progs_ = ids(sys::object_kind::prog);
    maps_ = ids(sys::object_kind::map);
    links_ = ids(sys::object_kind::link);
    btfs_ = ids(sys::object_kind::btf);
    env_ = environment_now();
  }

  void expect_clean() {
    std::string left;
    EXPECT_TRUE(eventually([&] { return (left = our_leftovers(progs_, maps_, links_)).empty(); })) << "left behind:\n"
                                                                                                   << left;
    EXPECT_EQ(environment_now(), env_) << "netns, cgroup, pin, tracefs event or congestion-control name left";
    // BTF objects have no name to tell ours apart: require the BTF list back to where it was
    // whenever nobody else changed the program and map lists meanwhile.
    if (added(progs_, ids(sys::object_kind::prog)).empty() && added(maps_, ids(sys::object_kind::map)).empty()) {
      EXPECT_TRUE(eventually([&] { return added(btfs_, ids(sys::object_kind::btf)).empty(); }))
          << "BTF objects left behind";
    }
  }

  std::vector<std::uint32_t> progs_, maps_, links_, btfs_;
  environment env_;
};

TEST_F(LinkCleanup, EveryLinkAndMechanismProbeLeavesNothingBehind) {
  probe::context ctx;
  auto t0 = std::chrono::steady_clock::now();
  auto r = probe::probe_links(ctx);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("link_probes_ms", static_cast<int>(ms));
  std::cout << "[ timing ] all link and mechanism probes: " << ms << " ms\n";
  EXPECT_EQ(r.links.size(), ctx.enums().link_types.size());
  expect_clean();
}

// Fails the n-th bpf() call of a run with `err`, passes the rest to the kernel.
class nth_call : public sys::syscalls {
 public:
  nth_call(int n, int err) : n_(n), err_(err) {}
  long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept override {
    if (++calls_ == n_) {
      errno = err_;
      return -1;
    }
    return syscalls::real().bpf(cmd, attr, size);
  }
  int calls() const { return calls_.load(); }

 private:
  int n_, err_;
  std::atomic<int> calls_{0};
};

// Each step of the probes with the most steps (struct_ops, link pinning, legacy tc, link update)
// fails once in turn; whatever was made before the failure is released.
TEST_F(LinkCleanup, FailingMidwayLeavesNothingBehind) {
  probe::context ctx;
  std::vector<std::pair<std::string, std::function<verdict()>>> probes;
  for (const auto& v : probe::link_variants(ctx, "struct_ops"))
    probes.emplace_back("struct_ops", [&ctx, v] { return probe::run_variant(ctx, v); });
  for (const auto& m : probe::mechanism_probes())
    if (m.info.name == "link_pin" || m.info.name == "legacy_tc_cls_bpf" || m.info.name == "link_update")
      probes.emplace_back(std::string(m.info.name), [&ctx, &m] { return m.run(ctx); });
  ASSERT_FALSE(probes.empty());
  for (auto& [name, run] : probes) {
    int steps = 0;
    verdict base;
    {
      nth_call count(1 << 30, 0);
      sys::scoped_syscalls seam(count);
      base = run();
      steps = count.calls();
    }
    for (int n = 1; n <= steps; ++n) {
      nth_call fail(n, EPERM);
      sys::scoped_syscalls seam(fail);
      verdict v = run();
      // A probe the kernel answers "unsupported" without injection (legacy TC without sch_ingress)
      // may still say so when the injected call was one whose failure it ignores.
      if (base.state != status::unsupported) {
        EXPECT_NE(v.state, status::unsupported) << name << " failing call " << n << " with EPERM: " << v.reason;
      }
    }
  }
  expect_clean();
}

// A kernel that refuses BPF_LINK_CREATE: EPERM is unknown, EINVAL and ENOTSUPP are unsupported.
TEST_F(LinkCleanup, RefusedLinkCreateIsClassifiedByErrno) {
  BPFPROBE_REQUIRE_VETH();
  probe::context ctx;
  for (auto [err, expect] : {std::pair{EPERM, status::unknown}, std::pair{EINVAL, status::unsupported},
                             std::pair{sys::ENOTSUPP_KERNEL, status::unsupported}}) {
    failing_command refuse(BPF_LINK_CREATE, err);
    sys::scoped_syscalls seam(refuse);
    for (const char* type : {"cgroup", "xdp", "tcx", "iter", "sockmap"}) {
      auto variants = probe::link_variants(ctx, type);
      ASSERT_FALSE(variants.empty()) << type;
      verdict v = probe::run_variant(ctx, variants.front());
      EXPECT_EQ(v.state, expect) << type << " with " << sys::errno_name(err) << ": " << v.reason;
      EXPECT_EQ(v.err, err) << type;
      EXPECT_FALSE(v.evidence.empty()) << type << ": the refused call is the evidence";
    }
  }
  expect_clean();
}

// perf_event_open refused (perf_event_paranoid, LSM): the perf link is unknown, never unsupported.
class refuse_perf : public sys::syscalls {
 public:
  long perf_event_open(perf_event_attr*, pid_t, int, int, unsigned long) noexcept override {
    errno = EACCES;
    return -1;
  }
};

TEST_F(LinkCleanup, RefusedPerfEventIsUnknown) {
  probe::context ctx;
  refuse_perf refuse;
  sys::scoped_syscalls seam(refuse);
  for (const auto& v : probe::link_variants(ctx, "perf_event")) {
    verdict r = probe::run_variant(ctx, v);
    EXPECT_EQ(r.state, status::unknown) << r.reason;
  }
  for (const auto& m : probe::mechanism_probes())
    if (m.info.name == "uprobe_pmu" || m.info.name == "legacy_perf_ioctl") {
      verdict r = m.run(ctx);
      EXPECT_EQ(r.state, status::unknown) << m.info.name << ": " << r.reason;
    }
  expect_clean();
}

}  // namespace
}  // namespace bpfprobe::testing
