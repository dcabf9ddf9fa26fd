// The libbpf overloads: programs of a skeleton (bpf_program*) attached by the best path, for every
// hook whose programs a skeleton can hold. Flavours the kernel lacks are not loaded (autoload off),
// and the attach call leaves them out. Counters live in the skeleton's .bss.
#include <netinet/in.h>
#include <sys/wait.h>

#include <memory>

#include "attach_progs.skel.h"
#include "veth.hpp"

extern "C" [[gnu::noinline]] int bpfprobe_libbpf_test_target(int x) {
  asm volatile("" : "+r"(x));
  return x + 3;
}

namespace bpfprobe::testing {
namespace {

struct skel_deleter {
  void operator()(attach_progs* s) const noexcept { attach_progs__destroy(s); }
};
using skel_ptr = std::unique_ptr<attach_progs, skel_deleter>;

// Opens and loads the skeleton with only the program flavours whose path the kernel supports.
skel_ptr open_skeleton() {
  skel_ptr s(attach_progs__open());
  EXPECT_TRUE(s) << "attach_progs__open: " << std::strerror(errno);
  if (!s) return s;
  s->rodata->target_tgid = static_cast<__u32>(::getpid());
  s->rodata->target_ethertype = test_ethertype;
  auto keep_if = [](bpf_program* prog, const decide::choice& c, std::string_view path) {
    const auto* cand = c.find(path);
    if (!cand || !cand->v.supported()) bpf_program__set_autoload(prog, false);
  };
  auto up = decide::uprobe(facts());
  keep_if(s->progs.count_uprobe_multi, up, "uprobe_multi");
  keep_if(s->progs.count_uprobe, up, up.find("perf_link")->v.supported() ? "perf_link" : "perf_ioctl");
  auto tp = decide::tracepoint(facts());
  keep_if(s->progs.count_tp_btf, tp, "tp_btf");
  keep_if(s->progs.count_raw_tp, tp, "raw_tp");
  keep_if(s->progs.count_tracepoint, tp, tp.find("perf_link")->v.supported() ? "perf_link" : "perf_ioctl");
  int err = attach_progs__load(s.get());
  EXPECT_EQ(err, 0) << "attach_progs__load: " << std::strerror(-err);
  if (err) s.reset();
  return s;
}

TEST(LibbpfAttach, UprobeAndTracepointFromSkeleton) {
  BPFPROBE_REQUIRE_ROOT();
  auto s = open_skeleton();
  ASSERT_TRUE(s);
  auto& p = shared_prober();

  auto up = decide::uprobe(facts());
  if (!up.chosen.empty()) {
    auto target = attach::uprobe_target::of(reinterpret_cast<const void*>(&bpfprobe_libbpf_test_target));
    ASSERT_TRUE(target) << target.error().describe();
    auto a = attach::uprobe(p, {s->progs.count_uprobe_multi, s->progs.count_uprobe}, target.value());
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), up.chosen) << attempts_of(a.value());
    int (*volatile fn)(int) = &bpfprobe_libbpf_test_target;
    for (int i = 0; i < 3; ++i) fn(i);
    EXPECT_EQ(s->bss->uprobe_count, 3u);
  }

  auto tp = decide::tracepoint(facts());
  if (!tp.chosen.empty()) {
    auto a = attach::tracepoint(p, {s->progs.count_tp_btf, s->progs.count_raw_tp, s->progs.count_tracepoint},
                                {"task", "task_rename"});
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), tp.chosen) << attempts_of(a.value());
    char saved[16] = {};
    ::prctl(PR_GET_NAME, saved);
    ::prctl(PR_SET_NAME, "bpfprobe-lb");
    ::prctl(PR_SET_NAME, saved);
    EXPECT_EQ(s->bss->tracepoint_count, 2u);
  }
}

TEST(LibbpfAttach, CgroupFromSkeletonUsesTheSectionsAttachType) {
  BPFPROBE_REQUIRE_ROOT();
  auto c = decide::cgroup(facts());
  if (c.chosen.empty()) GTEST_SKIP() << "no cgroup path supported";
  auto s = open_skeleton();
  ASSERT_TRUE(s);
  auto cg = sys::temp_cgroup::create("bpfprobe-attach-test");
  ASSERT_TRUE(cg) << cg.error().describe();
  auto a = attach::cgroup(shared_prober(), s->progs.count_egress, cg.value().fd());
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a.value().path(), c.chosen);
  auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
  ASSERT_TRUE(ids) << ids.error().describe();
  EXPECT_EQ(ids.value(), std::vector<std::uint32_t>{prog_id(bpf_program__fd(s->progs.count_egress))});
}

class LibbpfNetAttach : public veth_test<::testing::Test> {};

TEST_F(LibbpfNetAttach, XdpAndTcFromSkeleton) {
  auto xc = decide::xdp(facts());
  auto tc = decide::tc(facts());
  if (xc.chosen.empty() || tc.chosen.empty()) GTEST_SKIP() << "no XDP or TC path supported";
  auto s = open_skeleton();
  ASSERT_TRUE(s);
  auto x = attach::xdp(shared_prober(), s->progs.count_xdp, if1);
  ASSERT_TRUE(x) << x.error().describe();
  EXPECT_EQ(x.value().path(), xc.chosen);
  auto t = attach::tc(shared_prober(), s->progs.count_tc, if0, attach::tc_direction::egress);
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_EQ(t.value().path(), tc.chosen);
  send_frames(3);
  EXPECT_EQ(wait_until([&] { return s->bss->xdp_count; }, 3), 3u);
  EXPECT_EQ(s->bss->tc_count, 3u);
}

// A program that was never loaded is an error, not a crash.
TEST(LibbpfAttach, UnloadedProgramIsAnError) {
  skel_ptr s(attach_progs__open());
  ASSERT_TRUE(s);
  auto a = attach::xdp(shared_prober(), s->progs.count_xdp, 1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EINVAL);
  EXPECT_NE(a.error().describe().find("not loaded"), std::string::npos) << a.error().describe();
}

}  // namespace
}  // namespace bpfprobe::testing
