// A kernel that cannot make a veth pair (a Debian kernel booted without loadable modules: veth is a
// module there) still has XDP, tcx and the legacy netlink paths. The seam makes every veth creation
// answer EOPNOTSUPP, as such a kernel does; the probes must then decide on the private netns's lo,
// and the attach layer must choose a path and attach for real to lo. Everything else is the real
// kernel.
#include <gtest/gtest.h>

#include <atomic>
#include <bpfprobe/bpfprobe.hpp>
#include <cstring>
#include <string>

#include "link_support.hpp"

namespace bpfprobe::testing {
namespace {

// IFLA_INFO_KIND of an RTM_NEWLINK request, or empty.
std::string link_kind(const void* buf, std::size_t len) {
  const auto* h = static_cast<const nlmsghdr*>(buf);
  if (len < NLMSG_HDRLEN || h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len > len) return {};
  std::size_t head = NLMSG_LENGTH(sizeof(ifinfomsg));
  if (h->nlmsg_len < head) return {};
  std::string kind;
  const char* attrs = static_cast<const char*>(buf) + NLMSG_ALIGN(head);
  sys::for_each_attr(attrs, h->nlmsg_len - NLMSG_ALIGN(head), [&](std::uint16_t type, const char* p, std::size_t n) {
    if (type != IFLA_LINKINFO) return;
    sys::for_each_attr(p, n, [&](std::uint16_t t, const char* q, std::size_t m) {
      if (t == IFLA_INFO_KIND) kind.assign(q, strnlen(q, m));
    });
  });
  return kind;
}

// Refuses every veth creation with EOPNOTSUPP (rtnetlink's "Unknown device type"); all other calls
// reach the kernel.
class no_veth : public sys::syscalls {
 public:
  std::atomic<int> refused{0};
  long sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
              socklen_t tolen) noexcept override {
    if (link_kind(buf, len) == "veth") {
      ++refused;
      errno = EOPNOTSUPP;
      return -1;
    }
    return syscalls::real().sendto(fd, buf, len, flags, to, tolen);
  }
};

class NoVeth : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
  no_veth seam_impl;
};

TEST_F(NoVeth, SeamRefusesVethCreation) {
  if (::geteuid() != 0) GTEST_SKIP();
  sys::scoped_syscalls seam(seam_impl);
  auto r = sys::in_private_netns([](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    EXPECT_TRUE(nl) << nl.error().describe();
    if (!nl) return;
    auto made = sys::create_veth(nl.value(), "nv0", "nv1");
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, EOPNOTSUPP);
    // Other device kinds still reach the kernel: a dummy device may or may not exist, but the
    // answer is the kernel's, not ours.
    EXPECT_TRUE(sys::link_index(nl.value(), "lo"));
  });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(seam_impl.refused.load(), 1);
}

TEST_F(NoVeth, LinksAndLegacyPathsDecidedOnLo) {
  sys::scoped_syscalls seam(seam_impl);
  prober p;
  if (!p.prog_type("xdp").supported() || !p.prog_type("sched_cls").supported())
    GTEST_SKIP() << "xdp/sched_cls programs do not load here";
  struct row {
    verdict v;
    const char* what;
  };
  const row rows[] = {{p.link("xdp"), "link:xdp"},
                      {p.link("tcx"), "link:tcx"},
                      {p.mechanism("legacy_netlink_xdp"), "mechanism:legacy_netlink_xdp"},
                      {p.mechanism("legacy_tc_cls_bpf"), "mechanism:legacy_tc_cls_bpf"}};
  EXPECT_GE(seam_impl.refused.load(), 4) << "every probe tried a veth first";
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    // This host's kernel has all four (tcx from 6.6): without veth they must still be decided,
    // and supported, by an attachment on lo.
    EXPECT_EQ(r.v.state, status::supported) << r.v.reason << " | " << r.v.evidence;
    EXPECT_NE(r.v.evidence.find("lo of a private netns (no veth pair: EOPNOTSUPP)"), std::string::npos) << r.v.evidence;
  }
  EXPECT_NE(rows[2].v.evidence.find("attach mode generic"), std::string::npos) << rows[2].v.evidence;

  auto facts = decide::from(p);
  auto x = decide::xdp(facts);
  auto t = decide::tc(facts);
  EXPECT_EQ(x.chosen, "bpf_link");
  EXPECT_EQ(t.chosen, "tcx");
  for (const auto& c : x.candidates) EXPECT_TRUE(c.v.supported()) << "xdp " << c.path << ": " << c.v.reason;
  for (const auto& c : t.candidates) EXPECT_TRUE(c.v.supported()) << "tc " << c.path << ": " << c.v.reason;
}

// The chosen and the legacy paths attach for real to lo in a private netns, with the choice made
// while veth was refused.
TEST_F(NoVeth, AttachLayerAttachesToLo) {
  sys::scoped_syscalls seam(seam_impl);
  prober p;
  auto x = decide::xdp(decide::from(p));
  auto t = decide::tc(decide::from(p));
  if (x.chosen.empty() || t.chosen.empty()) GTEST_SKIP() << "no XDP or TC path here";
  auto xprog = libbpf_prog(BPF_PROG_TYPE_XDP, 0, XDP_PASS);
  auto tprog = libbpf_prog(BPF_PROG_TYPE_SCHED_CLS);
  ASSERT_TRUE(xprog.valid() && tprog.valid()) << std::strerror(errno);
  auto r = sys::in_private_netns([&](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl);
    auto lo = sys::link_index(nl.value(), "lo");
    ASSERT_TRUE(lo);
    for (const std::string& path : {x.chosen, std::string("netlink")}) {
      auto a = attach::xdp(x, xprog.get(), lo.value(), attach::policy::only(path));
      ASSERT_TRUE(a) << path << ": " << a.error().describe();
      EXPECT_EQ(a.value().path(), path);
      EXPECT_EQ(a.value().detail("mode"), "generic");
      auto st = sys::get_xdp(nl.value(), lo.value());
      ASSERT_TRUE(st);
      EXPECT_EQ(st.value().prog_id, prog_id(xprog.get()));
    }
    for (const std::string& path : {t.chosen, std::string("netlink")}) {
      auto a = attach::tc(t, tprog.get(), lo.value(), attach::tc_direction::ingress, attach::policy::only(path));
      ASSERT_TRUE(a) << path << ": " << a.error().describe();
      EXPECT_EQ(a.value().path(), path);
    }
    auto st = sys::get_xdp(nl.value(), lo.value());
    ASSERT_TRUE(st);
    EXPECT_EQ(st.value().attached, XDP_ATTACHED_NONE) << "dropping the attachment detaches";
  });
  ASSERT_TRUE(r) << r.error().describe();
}

}  // namespace
}  // namespace bpfprobe::testing
