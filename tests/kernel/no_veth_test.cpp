// A kernel that cannot make a veth pair (a Debian kernel booted without loadable modules: veth is a
// module there) still has XDP, tcx and the legacy netlink paths. The seam makes every veth creation
// answer EOPNOTSUPP, as such a kernel does; the probes must then decide on the private netns's lo,
// and the attach layer must choose a path and attach for real to lo. Everything else is the real
// kernel.
#include <gtest/gtest.h>

#include <atomic>
#include <bpfprobe/bpfprobe.hpp>
#include <cstring>
#include <optional>
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
  sys::scoped_syscalls seam(seam_impl);
  auto r = sys::in_private_netns([](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    EXPECT_TRUE(nl) << nl.error().describe();
    if (!nl) return;
    auto made = sys::create_veth(nl.value(), "nv0", "nv1");
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, EOPNOTSUPP);
    // Other requests still reach the kernel.
    EXPECT_TRUE(sys::link_index(nl.value(), "lo"));
  });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(seam_impl.refused.load(), 1);
}

// The four verdicts a device decides, with veth refused.
struct device_verdicts {
  verdict xdp, tcx, netlink_xdp, tc_cls_bpf;
  explicit device_verdicts(prober& p)
      : xdp(p.link("xdp")),
        tcx(p.link("tcx")),
        netlink_xdp(p.mechanism("legacy_netlink_xdp")),
        tc_cls_bpf(p.mechanism("legacy_tc_cls_bpf")) {}
};

TEST_F(NoVeth, LinksAndLegacyPathsDecidedOnLo) {
  // What the probes say with veth, where the kernel has it: without veth they must say the same.
  std::optional<device_verdicts> with_veth;
  if (kernel_has_veth()) {
    prober ref;
    with_veth.emplace(ref);
  }
  sys::scoped_syscalls seam(seam_impl);
  prober p;
  if (!p.prog_type("xdp").supported() || !p.prog_type("sched_cls").supported())
    GTEST_SKIP() << "xdp/sched_cls programs do not load here";
  device_verdicts got(p);
  // Every probe tries a veth first; tcx only where the kernel defines its attach type (6.6).
  int probes = p.context().attach_type("tcx_ingress") ? 4 : 3;
  EXPECT_GE(seam_impl.refused.load(), probes) << "every probe tried a veth first";
  struct row {
    const verdict& v;
    const verdict* ref;
    const char* what;
  };
  const row rows[] = {{got.xdp, with_veth ? &with_veth->xdp : nullptr, "link:xdp"},
                      {got.tcx, with_veth ? &with_veth->tcx : nullptr, "link:tcx"},
                      {got.netlink_xdp, with_veth ? &with_veth->netlink_xdp : nullptr, "mechanism:legacy_netlink_xdp"},
                      {got.tc_cls_bpf, with_veth ? &with_veth->tc_cls_bpf : nullptr, "mechanism:legacy_tc_cls_bpf"}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    EXPECT_NE(r.v.state, status::unknown) << r.v.reason << " | " << r.v.evidence;
    if (r.ref) {
      EXPECT_EQ(r.v.state, r.ref->state) << r.v.reason << " | with veth: " << r.ref->reason;
    }
    if (r.v.supported()) {
      EXPECT_NE(r.v.evidence.find("lo of a private netns (no veth pair: EOPNOTSUPP)"), std::string::npos)
          << r.v.evidence;
    }
  }
  // XDP through netlink (4.8) and the XDP link (5.9) exist on every kernel the project supports; tcx
  // wherever the kernel defines its attach type (6.6).
  EXPECT_TRUE(got.netlink_xdp.supported()) << got.netlink_xdp.reason;
  EXPECT_NE(got.netlink_xdp.evidence.find("attach mode generic"), std::string::npos) << got.netlink_xdp.evidence;
  EXPECT_TRUE(got.xdp.supported()) << got.xdp.reason;
  if (p.context().attach_type("tcx_ingress")) {
    EXPECT_TRUE(got.tcx.supported()) << got.tcx.reason;
  }
  // legacy TC without veth: supported, or unsupported because the kernel lacks the qdisc/classifier.
  if (!got.tc_cls_bpf.supported()) {
    EXPECT_NE(got.tc_cls_bpf.reason.find("needs module"), std::string::npos) << got.tc_cls_bpf.reason;
  }

  auto facts = decide::from(p);
  auto x = decide::xdp(facts);
  auto t = decide::tc(facts);
  EXPECT_EQ(x.chosen, "bpf_link");
  EXPECT_EQ(t.chosen, got.tcx.supported() ? "tcx" : got.tc_cls_bpf.supported() ? "netlink" : "");
  for (const auto& c : x.candidates) EXPECT_TRUE(c.v.supported()) << "xdp " << c.path << ": " << c.v.reason;
  for (const auto& c : t.candidates) EXPECT_NE(c.v.state, status::unknown) << "tc " << c.path << ": " << c.v.reason;
}

// Every path the choice calls supported attaches for real to lo in a private netns, with the choice
// made while veth was refused.
TEST_F(NoVeth, AttachLayerAttachesToLo) {
  sys::scoped_syscalls seam(seam_impl);
  prober p;
  auto x = decide::xdp(decide::from(p));
  auto t = decide::tc(decide::from(p));
  if (x.chosen.empty()) GTEST_SKIP() << "no XDP path here";
  auto xprog = libbpf_prog(BPF_PROG_TYPE_XDP, 0, XDP_PASS);
  auto tprog = libbpf_prog(BPF_PROG_TYPE_SCHED_CLS);
  ASSERT_TRUE(xprog.valid() && tprog.valid()) << std::strerror(errno);
  int attached = 0;
  auto r = sys::in_private_netns([&](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl);
    auto lo = sys::link_index(nl.value(), "lo");
    ASSERT_TRUE(lo);
    for (const auto& c : x.candidates) {
      if (!c.v.supported()) continue;
      auto a = attach::xdp(x, xprog.get(), lo.value(), attach::policy::only(c.path));
      ASSERT_TRUE(a) << c.path << ": " << a.error().describe();
      EXPECT_EQ(a.value().path(), c.path);
      EXPECT_EQ(a.value().detail("mode"), "generic");
      auto st = sys::get_xdp(nl.value(), lo.value());
      ASSERT_TRUE(st);
      EXPECT_EQ(st.value().prog_id, prog_id(xprog.get()));
      ++attached;
    }
    for (const auto& c : t.candidates) {
      if (!c.v.supported()) continue;
      auto a = attach::tc(t, tprog.get(), lo.value(), attach::tc_direction::ingress, attach::policy::only(c.path));
      ASSERT_TRUE(a) << c.path << ": " << a.error().describe();
      EXPECT_EQ(a.value().path(), c.path);
      ++attached;
    }
    auto st = sys::get_xdp(nl.value(), lo.value());
    ASSERT_TRUE(st);
    EXPECT_EQ(st.value().attached, XDP_ATTACHED_NONE) << "dropping the attachment detaches";
  });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_GE(attached, 2);
}

}  // namespace
}  // namespace bpfprobe::testing
