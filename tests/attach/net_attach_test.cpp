// XDP and TC attached for real to a veth pair in a private network namespace, through the chosen
// path and through every path forced by policy. Proof: frames sent over the pair move the program's
// counter, and netlink / BPF_PROG_QUERY / link info show the program; after the attachment is
// dropped nothing is attached and the counter stands still.
#include "../common/failing_command.hpp"
#include "veth.hpp"

namespace bpfprobe::testing {
namespace {

// ---------------------------------------------------------------- XDP

struct xdp_case {
  std::string path;  // "" = the chosen path, no policy
  attach::xdp_mode mode;
};

void PrintTo(const xdp_case& c, std::ostream* os) {
  *os << (c.path.empty() ? "chosen" : c.path) << " mode " << to_string(c.mode);
}

std::string xdp_name(const ::testing::TestParamInfo<xdp_case>& i) {
  return (i.param.path.empty() ? std::string("chosen") : i.param.path) + "_" + std::string(to_string(i.param.mode));
}

class XdpAttach : public veth_test<::testing::TestWithParam<xdp_case>> {};

TEST_P(XdpAttach, CountsFramesAndDetachesOnDrop) {
  const auto& param = GetParam();
  auto choice = decide::xdp(facts());
  BPFPROBE_REQUIRE_WANTED(want, choice, param.path);

  auto map = counter_map();
  auto prog =
      load({.type = BPF_PROG_TYPE_XDP}, counting_program(map.get(), XDP_PASS, {filter::ethertype_xdp, test_ethertype}));
  ASSERT_TRUE(prog) << describe(prog.error());
  std::uint32_t id = prog_id(prog.value().get());

  attach::policy pol = forcing(param.path);
  pol.xdp = param.mode;
  {
    auto a = attach::xdp(choice, prog.value().get(), if1, pol);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    EXPECT_EQ(a.value().hook(), "xdp");
    if (param.mode == attach::xdp_mode::generic) {
      EXPECT_EQ(a.value().detail("mode"), "generic");
    }
    if (param.mode == attach::xdp_mode::driver) {
      EXPECT_EQ(a.value().detail("mode"), "driver");
    }

    // The kernel's view: netlink reports our program on at1 (for both paths).
    auto st = sys::get_xdp(nl(), if1);
    ASSERT_TRUE(st) << st.error().describe();
    const auto& s = st.value();
    EXPECT_TRUE(s.prog_id == id || s.skb_prog_id == id || s.drv_prog_id == id)
        << "netlink shows prog " << s.prog_id << " (ours " << id << ")";
    if (want == decide::path::bpf_link) {
      auto info = sys::link_info(a.value().fd());
      ASSERT_TRUE(info) << info.error().describe();
      EXPECT_EQ(info.value().type, BPF_LINK_TYPE_XDP);
      EXPECT_EQ(info.value().prog_id, id);
      EXPECT_EQ(static_cast<int>(info.value().xdp.ifindex), if1);
    } else {
      EXPECT_LT(a.value().fd(), 0);  // legacy: no link fd
    }

    send_frames(5);
    EXPECT_EQ(wait_for(map, 5), 5u) << "XDP program did not see the frames";
  }
  // Dropped: nothing attached, the counter stands still.
  auto st = sys::get_xdp(nl(), if1);
  ASSERT_TRUE(st) << st.error().describe();
  EXPECT_EQ(st.value().attached, XDP_ATTACHED_NONE);
  EXPECT_EQ(st.value().prog_id + st.value().skb_prog_id + st.value().drv_prog_id, 0u);
  send_frames(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(counter(map), 5u);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, XdpAttach,
    ::testing::Values(xdp_case{"", attach::xdp_mode::automatic}, xdp_case{"bpf_link", attach::xdp_mode::automatic},
                      xdp_case{"bpf_link", attach::xdp_mode::generic}, xdp_case{"bpf_link", attach::xdp_mode::driver},
                      xdp_case{"netlink", attach::xdp_mode::automatic}, xdp_case{"netlink", attach::xdp_mode::generic},
                      xdp_case{"netlink", attach::xdp_mode::driver}),
    xdp_name);

// ---------------------------------------------------------------- TC

struct tc_case {
  std::string path;
  sys::tc_direction dir;
};

void PrintTo(const tc_case& c, std::ostream* os) {
  *os << (c.path.empty() ? "chosen" : c.path) << (c.dir == sys::tc_direction::ingress ? " ingress" : " egress");
}

std::string tc_name(const ::testing::TestParamInfo<tc_case>& i) {
  return (i.param.path.empty() ? std::string("chosen") : i.param.path) +
         (i.param.dir == sys::tc_direction::ingress ? "_ingress" : "_egress");
}

class TcAttach : public veth_test<::testing::TestWithParam<tc_case>> {};

TEST_P(TcAttach, CountsFramesAndDetachesOnDrop) {
  const auto& param = GetParam();
  auto choice = decide::tc(facts());
  BPFPROBE_REQUIRE_WANTED(want, choice, param.path);
  bool ingress = param.dir == sys::tc_direction::ingress;
  int ifindex = ingress ? if1 : if0;  // frames leave at0 and arrive on at1

  auto map = counter_map();
  auto prog = load({.type = BPF_PROG_TYPE_SCHED_CLS},
                   counting_program(map.get(), TC_ACT_OK, {filter::ethertype_skb, test_ethertype}));
  ASSERT_TRUE(prog) << describe(prog.error());
  std::uint32_t id = prog_id(prog.value().get());
  std::uint32_t tcx_type = ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;

  attach::policy pol = forcing(param.path);
  {
    auto a = attach::tc(choice, prog.value().get(), ifindex, param.dir, pol);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    if (want == decide::path::tcx) {
      auto ids = sys::prog_query(ifindex, tcx_type);
      ASSERT_TRUE(ids) << ids.error().describe();
      EXPECT_EQ(ids.value(), std::vector<std::uint32_t>{id});
      auto info = sys::link_info(a.value().fd());
      ASSERT_TRUE(info) << info.error().describe();
      EXPECT_EQ(info.value().type, BPF_LINK_TYPE_TCX);
      EXPECT_EQ(static_cast<int>(info.value().tcx.ifindex), ifindex);
    } else {
      auto filters = sys::tc_filters(nl(), ifindex, param.dir);
      ASSERT_TRUE(filters) << filters.error().describe();
      ASSERT_EQ(filters.value().size(), 1u);
      EXPECT_EQ(filters.value()[0].kind, "bpf");
      EXPECT_EQ(filters.value()[0].prog_id, id);
      EXPECT_TRUE(filters.value()[0].direct_action);
      EXPECT_EQ(a.value().detail("qdisc"), "clsact (created)");
    }
    send_frames(4);
    EXPECT_EQ(wait_for(map, 4), 4u) << "TC program did not see the frames";
  }
  if (want == decide::path::tcx) {
    auto ids = sys::prog_query(ifindex, tcx_type);
    ASSERT_TRUE(ids) << ids.error().describe();
    EXPECT_TRUE(ids.value().empty());
  } else {
    // The filter and the clsact qdisc we created are gone: a filter dump finds no qdisc.
    auto filters = sys::tc_filters(nl(), ifindex, param.dir);
    EXPECT_TRUE(!filters || filters.value().empty());
    if (!filters) {
      EXPECT_EQ(filters.error().code, EINVAL) << filters.error().describe();
    }
  }
  send_frames(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(counter(map), 4u);
}

INSTANTIATE_TEST_SUITE_P(Paths, TcAttach,
                         ::testing::Values(tc_case{"", sys::tc_direction::ingress},
                                           tc_case{"tcx", sys::tc_direction::ingress},
                                           tc_case{"tcx", sys::tc_direction::egress},
                                           tc_case{"netlink", sys::tc_direction::ingress},
                                           tc_case{"netlink", sys::tc_direction::egress}),
                         tc_name);

// ---------------------------------------------------------------- fallback and errors

class XdpFallback : public veth_test<::testing::Test> {};

// A kernel without XDP links answers EINVAL: the attach falls back to netlink and says why.
TEST_F(XdpFallback, EinvalFromLinkCreateFallsBackToNetlink) {
  auto choice = decide::xdp(facts());
  BPFPROBE_REQUIRE_PATH(choice, "bpf_link");
  BPFPROBE_REQUIRE_PATH(choice, "netlink");
  auto map = counter_map();
  auto prog =
      load({.type = BPF_PROG_TYPE_XDP}, counting_program(map.get(), XDP_PASS, {filter::ethertype_xdp, test_ethertype}));
  ASSERT_TRUE(prog) << describe(prog.error());
  failing_command fake(BPF_LINK_CREATE, EINVAL);
  std::optional<sys::scoped_syscalls> seam(std::in_place, fake);
  auto a = attach::xdp(choice, prog.value().get(), if1);
  seam.reset();
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a.value().path(), "netlink");
  ASSERT_EQ(a.value().attempts().size(), 2u);
  EXPECT_EQ(a.value().attempts()[0].path, "bpf_link");
  EXPECT_EQ(a.value().attempts()[0].what, attach::attempt::kind::failed);
  EXPECT_EQ(a.value().attempts()[0].err, EINVAL);
  EXPECT_NE(a.value().attempts()[0].reason.find("fell back"), std::string::npos);
  EXPECT_EQ(a.value().attempts()[1].what, attach::attempt::kind::attached);
  send_frames(2);
  EXPECT_EQ(wait_for(map, 2), 2u);
}

// On a kernel without tcx (before 6.6) a forced tcx attempt gets the kernel's own EINVAL and the
// attach falls back to netlink. Runs where the report says tcx is unsupported (the matrix).
class TcFallback : public veth_test<::testing::Test> {};

TEST_F(TcFallback, KernelWithoutTcxFallsBackToNetlink) {
  auto choice = decide::tc(facts());
  if (choice.find("tcx")->v.state != status::unsupported)
    GTEST_SKIP() << "tcx is " << to_string(choice.find("tcx")->v.state) << " here; this needs a kernel without it";
  BPFPROBE_REQUIRE_PATH(choice, "netlink");
  auto map = counter_map();
  auto prog = load({.type = BPF_PROG_TYPE_SCHED_CLS},
                   counting_program(map.get(), TC_ACT_OK, {filter::ethertype_skb, test_ethertype}));
  ASSERT_TRUE(prog) << describe(prog.error());
  attach::policy pol;
  pol.force = {"tcx", "netlink"};  // forced: tried whatever the verdict says
  auto a = attach::tc(choice, prog.value().get(), if1, sys::tc_direction::ingress, pol);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a.value().path(), "netlink");
  ASSERT_EQ(a.value().attempts().size(), 2u) << attempts_of(a.value());
  EXPECT_EQ(a.value().attempts()[0].what, attach::attempt::kind::failed);
  EXPECT_EQ(a.value().attempts()[0].err, EINVAL) << attempts_of(a.value());
  send_frames(2);
  EXPECT_EQ(wait_for(map, 2), 2u);
}

// EPERM is not "unsupported here": it comes back as it is and nothing else is tried.
TEST_F(XdpFallback, EpermIsReturnedWithoutFallback) {
  auto choice = decide::xdp(facts());
  BPFPROBE_REQUIRE_PATH(choice, "bpf_link");
  auto prog = load({.type = BPF_PROG_TYPE_XDP}, counting_program(counter_map().get(), XDP_PASS));
  ASSERT_TRUE(prog) << describe(prog.error());
  failing_command fake(BPF_LINK_CREATE, EPERM);
  std::optional<sys::scoped_syscalls> seam(std::in_place, fake);
  auto a = attach::xdp(choice, prog.value().get(), if1);
  seam.reset();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EPERM);
  auto st = sys::get_xdp(nl(), if1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st.value().attached, XDP_ATTACHED_NONE) << "netlink was tried after EPERM";
}

// An already attached program is never replaced: the second attach fails with EBUSY/EEXIST.
TEST_F(XdpFallback, SecondAttachDoesNotReplace) {
  auto choice = decide::xdp(facts());
  if (choice.chosen.empty()) GTEST_SKIP() << "no XDP path supported";
  auto prog = load({.type = BPF_PROG_TYPE_XDP}, counting_program(counter_map().get(), XDP_PASS));
  ASSERT_TRUE(prog) << describe(prog.error());
  for (const char* path : {"bpf_link", "netlink"}) {
    if (!choice.find(path)->v.supported()) continue;
    auto first = attach::xdp(choice, prog.value().get(), if1, attach::policy::only(path));
    ASSERT_TRUE(first) << first.error().describe();
    for (const char* second_path : {"bpf_link", "netlink"}) {
      if (!choice.find(second_path)->v.supported()) continue;
      auto second = attach::xdp(choice, prog.value().get(), if1, attach::policy::only(second_path));
      EXPECT_FALSE(second) << path << " then " << second_path << " replaced the first program";
      if (!second) {
        EXPECT_TRUE(second.error().code == EBUSY || second.error().code == EEXIST) << second.error().describe();
      }
    }
  }
}

// libbpf's netlink calls act in the calling thread's network namespace. A legacy XDP or TC
// attachment detached from a thread in another namespace (which has no such device) must still
// detach from the device it was attached to, and the clsact qdisc it made must go too.
class LegacyDetach : public veth_test<::testing::Test> {};

TEST_F(LegacyDetach, FromAnotherNetworkNamespace) {
  auto xc = decide::xdp(facts());
  auto tcc = decide::tc(facts());
  BPFPROBE_REQUIRE_PATH(xc, "netlink");
  BPFPROBE_REQUIRE_PATH(tcc, "netlink");
  auto xprog = load({.type = BPF_PROG_TYPE_XDP}, counting_program(counter_map().get(), XDP_PASS));
  auto tprog = load({.type = BPF_PROG_TYPE_SCHED_CLS}, counting_program(counter_map().get(), TC_ACT_OK));
  ASSERT_TRUE(xprog && tprog);
  auto x = attach::xdp(xc, xprog.value().get(), if1, attach::policy::only("netlink"));
  ASSERT_TRUE(x) << x.error().describe();
  auto t = attach::tc(tcc, tprog.value().get(), if1, sys::tc_direction::ingress, attach::policy::only("netlink"));
  ASSERT_TRUE(t) << t.error().describe();
  ASSERT_EQ(t.value().detail("qdisc"), "clsact (created)");
  std::uint64_t here = sys::netns_inode(sys::open_thread_netns().value().get());
  auto r = sys::in_private_netns([&](const sys::netns_guard& g) {
    EXPECT_NE(g.inode(), here);
    auto dx = x.value().detach();
    EXPECT_TRUE(dx) << dx.error().describe();
    auto dt = t.value().detach();
    EXPECT_TRUE(dt) << dt.error().describe();
  });
  ASSERT_TRUE(r) << r.error().describe();
  auto st = sys::get_xdp(nl(), if1);
  ASSERT_TRUE(st) << st.error().describe();
  EXPECT_EQ(st.value().attached, XDP_ATTACHED_NONE);
  // The filter is gone, and the clsact qdisc with it (a filter dump cannot tell: without the qdisc
  // it is empty too): attaching again creates the qdisc anew.
  auto filters = sys::tc_filters(nl(), if1, sys::tc_direction::ingress);
  ASSERT_TRUE(filters) << filters.error().describe();
  EXPECT_TRUE(filters.value().empty());
  auto again = attach::tc(tcc, tprog.value().get(), if1, sys::tc_direction::ingress, attach::policy::only("netlink"));
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(again.value().detail("qdisc"), "clsact (created)");
}

TEST(AttachPolicy, ForbiddenAndUnknownPathsAreNotTried) {
  BPFPROBE_REQUIRE_ROOT();
  constexpr int no_such_ifindex = 0x7ffffff0;  // nothing may attach anywhere even if the logic were wrong
  decide::choice c;
  c.hook = "xdp";
  c.candidates = {{"bpf_link", verdict::yes("fake"), {}}, {"netlink", verdict::unknown("EPERM while probing"), {}}};
  c.chosen = "bpf_link";
  // bpf_link forbidden, netlink unknown and try_unknown off: nothing is tried, so nothing attaches.
  auto a = attach::xdp(c, -1, no_such_ifindex, attach::policy{}.without("bpf_link"));
  ASSERT_FALSE(a);
  EXPECT_TRUE(a.error().code == EBADF || a.error().code == EBADFD) << a.error().describe();  // before any path
  auto map = counter_map();
  auto prog = load({.type = BPF_PROG_TYPE_XDP}, counting_program(map.get(), XDP_PASS));
  ASSERT_TRUE(prog) << describe(prog.error());
  a = attach::xdp(c, prog.value().get(), no_such_ifindex, attach::policy{}.without("bpf_link"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EOPNOTSUPP);
  EXPECT_NE(a.error().message.find("forbidden by policy"), std::string::npos) << a.error().describe();
  EXPECT_NE(a.error().message.find("unknown (policy.try_unknown is off)"), std::string::npos) << a.error().describe();
  // A path the hook does not have is a usage error.
  a = attach::xdp(c, prog.value().get(), no_such_ifindex, attach::policy::only("tcx"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, EINVAL);
}

}  // namespace
}  // namespace bpfprobe::testing
