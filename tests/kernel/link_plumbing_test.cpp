// The sys/ plumbing the link probes and the attach layer share: private network namespaces,
// rtnetlink (devices, legacy XDP and TC, error text), temporary cgroups, tracefs and perf events.
#include <net/if.h>
#include <sys/stat.h>

#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/link.hpp>
#include <bpfprobe/sys/netlink.hpp>
#include <bpfprobe/sys/netns.hpp>
#include <bpfprobe/sys/perf.hpp>

#include "link_support.hpp"
#include "run.hpp"

namespace bpfprobe::testing {
namespace {

extern "C" [[gnu::noinline, gnu::used]] int plumbing_uprobe_target(int x) {
  asm volatile("" : "+r"(x));
  return x - 1;
}

std::uint64_t my_netns() {
  auto fd = sys::open_thread_netns();
  return fd ? sys::netns_inode(fd.value().get()) : 0;
}

TEST(Mountinfo, FindsMountPointsAndUnescapesThem) {
  const char* text =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
      "44 23 0:13 / /mnt/with\\040space rw,relatime - tracefs tracefs rw\n";
  EXPECT_EQ(sys::find_mount(text, "cgroup2"), "/sys/fs/cgroup/unified");
  EXPECT_EQ(sys::find_mount(text, "tracefs"), "/mnt/with space");
  EXPECT_EQ(sys::find_mount(text, "bpf"), "");
  EXPECT_EQ(sys::unescape_mount_path("a\\134b\\011c"), "a\\b\tc");
}

TEST(Netns, PrivateNamespaceIsEnteredAndLeft) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  std::uint64_t outside = my_netns();
  ASSERT_NE(outside, 0u);
  std::uint64_t inside = 0;
  {
    auto g = sys::netns_guard::enter_private();
    ASSERT_TRUE(g) << g.error().describe();
    inside = my_netns();
    EXPECT_NE(inside, outside);
    EXPECT_EQ(g.value().inode(), inside);
  }
  EXPECT_EQ(my_netns(), outside) << "the guard restores the thread's namespace";
  auto r = sys::in_private_netns([&](const sys::netns_guard& g) { return g.inode(); });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_NE(r.value(), outside);
  EXPECT_EQ(my_netns(), outside) << "in_private_netns never moves the caller";
}

TEST(Netlink, DevicesLiveOnlyInTheirNamespace) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  BPFPROBE_REQUIRE_VETH();
  auto r = sys::in_private_netns([](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl) << nl.error().describe();
    auto v = sys::create_veth(nl.value(), "pl0", "pl1");
    ASSERT_TRUE(v) << v.error().describe();
    auto idx = sys::link_index(nl.value(), "pl0");
    ASSERT_TRUE(idx) << idx.error().describe();
    EXPECT_EQ(static_cast<int>(if_nametoindex("pl0")), idx.value());
    EXPECT_TRUE(sys::set_link_up(nl.value(), idx.value()));
    auto again = sys::create_veth(nl.value(), "pl0", "pl1");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, EEXIST);
    auto bad = sys::create_link(nl.value(), "bpfprobe-no-such-kind", "pl2");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, EOPNOTSUPP);
    EXPECT_NE(bad.error().message, "") << "the kernel's extended ack text is kept: " << bad.error().describe();
    auto missing = sys::link_index(nl.value(), "pl-missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ENODEV);
    EXPECT_TRUE(sys::delete_link(nl.value(), idx.value()));
    EXPECT_FALSE(sys::link_index(nl.value(), "pl1")) << "deleting one veth end removes its peer";
  });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(if_nametoindex("pl0"), 0u) << "the veth never existed in our namespace";
}

TEST(Netlink, LegacyXdpAndTcAttachAndDetach) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  BPFPROBE_REQUIRE_VETH();
  auto xdp = libbpf_prog(BPF_PROG_TYPE_XDP, 0, 2);
  auto cls = libbpf_prog(BPF_PROG_TYPE_SCHED_CLS);
  ASSERT_TRUE(xdp.valid() && cls.valid()) << std::strerror(errno);
  auto r = sys::in_private_netns([&](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl);
    ASSERT_TRUE(sys::create_veth(nl.value(), "pl0", "pl1"));
    int idx = sys::link_index(nl.value(), "pl0").value();
    auto none = sys::get_xdp(nl.value(), idx);
    ASSERT_TRUE(none);
    EXPECT_EQ(none.value().attached, XDP_ATTACHED_NONE);
    ASSERT_TRUE(sys::set_xdp(nl.value(), idx, xdp.get()));
    auto st = sys::get_xdp(nl.value(), idx);
    ASSERT_TRUE(st);
    EXPECT_NE(st.value().attached, XDP_ATTACHED_NONE);
    EXPECT_EQ(st.value().prog_id, prog_id(xdp.get()));
    ASSERT_TRUE(sys::set_xdp(nl.value(), idx, -1));
    EXPECT_EQ(sys::get_xdp(nl.value(), idx).value().attached, XDP_ATTACHED_NONE);

    ASSERT_TRUE(sys::add_clsact(nl.value(), idx));
    auto f = sys::add_cls_bpf(nl.value(), {.ifindex = idx, .prog_fd = cls.get(), .name = "plumbing"});
    ASSERT_TRUE(f) << f.error().describe();
    auto ids = sys::cls_bpf_prog_ids(nl.value(), idx, sys::tc_direction::ingress);
    ASSERT_TRUE(ids) << ids.error().describe();
    EXPECT_EQ(ids.value(), std::vector<std::uint32_t>{prog_id(cls.get())});
    auto egress = sys::cls_bpf_prog_ids(nl.value(), idx, sys::tc_direction::egress);
    ASSERT_TRUE(egress);
    EXPECT_TRUE(egress.value().empty());
    ASSERT_TRUE(sys::del_clsact(nl.value(), idx));
  });
  ASSERT_TRUE(r) << r.error().describe();
}

TEST(Cgroup, TemporaryCgroupIsRemoved) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  std::string path;
  {
    auto cg = sys::temp_cgroup::create("plumbing");
    ASSERT_TRUE(cg) << cg.error().describe();
    path = cg.value().path();
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(cg.value().id(), st.st_ino);
    EXPECT_TRUE(std::filesystem::exists(path + "/cgroup.procs")) << "it is a cgroup v2 directory";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Perf, TracepointIdsAndUprobes) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto fs = sys::tracefs::locate();
  ASSERT_TRUE(fs) << fs.error().describe();
  auto id = fs.value().event_id("sched", "sched_process_exec");
  ASSERT_TRUE(id) << id.error().describe();
  EXPECT_GT(id.value(), 0u);
  EXPECT_TRUE(sys::open_tracepoint(id.value()));
  EXPECT_FALSE(fs.value().event_id("no_such_category", "no_such_event"));

  auto loc = sys::locate_code(reinterpret_cast<const void*>(&plumbing_uprobe_target));
  ASSERT_TRUE(loc) << loc.error().describe();
  EXPECT_LT(loc.value().offset, std::filesystem::file_size(loc.value().path));
  auto up = sys::find_pmu("uprobe");
  if (!up) GTEST_SKIP() << "no uprobe PMU: " << up.error().describe();
  EXPECT_EQ(up.value().type, std::stoul(sys::read_file_text("/sys/bus/event_source/devices/uprobe/type").value()));
  auto ev = sys::open_uprobe(up.value(), loc.value().path, loc.value().offset);
  EXPECT_TRUE(ev) << ev.error().describe();
  if (up.value().retprobe_bit >= 0) {
    EXPECT_TRUE(sys::open_uprobe(up.value(), loc.value().path, loc.value().offset, true));
  }
  EXPECT_EQ(plumbing_uprobe_target(5), 4);
}

TEST(Perf, TracefsProbeEventIsRemoved) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto fs = sys::tracefs::locate();
  ASSERT_TRUE(fs) << fs.error().describe();
  if (access((fs.value().path() + "/uprobe_events").c_str(), F_OK) != 0) GTEST_SKIP() << "no uprobe_events";
  auto loc = sys::locate_code(reinterpret_cast<const void*>(&plumbing_uprobe_target));
  ASSERT_TRUE(loc);
  char def[64];
  std::snprintf(def, sizeof(def), ":0x%llx", static_cast<unsigned long long>(loc.value().offset));
  std::string name;
  {
    auto ev =
        sys::tracefs_probe_event::create(fs.value(), sys::tracefs_probe_event::kind::uprobe, loc.value().path + def);
    ASSERT_TRUE(ev) << ev.error().describe();
    name = ev.value().name();
    EXPECT_NE(sys::read_file_text(fs.value().path() + "/uprobe_events").value().find(name), std::string::npos);
    EXPECT_TRUE(sys::open_tracepoint(ev.value().id()));
  }
  EXPECT_EQ(sys::read_file_text(fs.value().path() + "/uprobe_events").value().find(name), std::string::npos);
}

TEST(LinkWrappers, PinGetDetachAndQuery) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  auto cg = sys::temp_cgroup::create("plumbing");
  ASSERT_TRUE(cg);
  auto prog = libbpf_prog(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 1);
  ASSERT_TRUE(prog.valid());
  {
    auto a = sys::prog_attachment::attach(cg.value().fd(), prog.get(), BPF_CGROUP_INET_INGRESS);
    ASSERT_TRUE(a) << a.error().describe();
    auto q = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_INGRESS);
    ASSERT_TRUE(q);
    EXPECT_EQ(q.value(), std::vector<std::uint32_t>{prog_id(prog.get())});
  }
  EXPECT_TRUE(sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_INGRESS).value().empty()) << "detached on scope exit";

  auto link = sys::link_create({.prog_fd = prog.get(),
                                .target = static_cast<std::uint32_t>(cg.value().fd()),
                                .attach_type = BPF_CGROUP_INET_INGRESS});
  ASSERT_TRUE(link) << link.error().describe();
  auto bpffs = sys::mount_point_of("bpf");
  if (bpffs) {
    sys::scoped_pin pin(bpffs.value() + "/plumbing-" + std::to_string(getpid()));
    ASSERT_TRUE(sys::obj_pin(link.value().get(), pin.path()));
    auto back = sys::obj_get(pin.path());
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_EQ(link_id(back.value().get()), link_id(link.value().get()));
  }
  EXPECT_TRUE(sys::link_detach(link.value().get()));
  auto info = sys::link_info(link.value().get());
  ASSERT_TRUE(info);
  EXPECT_EQ(info.value().cgroup.cgroup_id, 0u) << "a detached cgroup link names no cgroup";
  auto missing = sys::obj_get("/sys/fs/bpf/plumbing-does-not-exist");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

}  // namespace
}  // namespace bpfprobe::testing
