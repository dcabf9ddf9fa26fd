// The link makers of the link-type test: one per link type, each creating that link on a target of
// its own with libbpf's low-level API and handing it to a check while it is held.
#pragma once

#include <bpfprobe/prober/prober.hpp>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/link.hpp>
#include <bpfprobe/sys/netlink.hpp>
#include <bpfprobe/sys/netns.hpp>
#include <bpfprobe/sys/perf.hpp>
#include <functional>
#include <map>

#include "link_support.hpp"

namespace bpfprobe::testing {

extern "C" [[gnu::noinline, gnu::used]] inline int link_test_uprobe_target(int x) {
  asm volatile("" : "+r"(x));
  return x * 3;
}

struct made {
  sys::unique_fd link;
  std::uint32_t prog_id = 0;  // 0 for struct_ops, which is matched by map id
  std::uint32_t map_id = 0;
};

// Creates a link, holds it while `check` runs, then lets everything go. Returns false when the
// test knows no way to make this link type.
using check_fn = std::function<void(const made&)>;

inline const probe::context& kernel() {
  static const probe::context ctx;
  return ctx;
}

inline int attach(const char* name) {
  auto v = btf::kernel_enums::value_of(kernel().enums().attach_types, name);
  return v ? static_cast<int>(*v) : -1;
}

inline void expect_ok(const sys::unique_fd& fd, const char* what) {
  ASSERT_TRUE(fd.valid()) << what << ": " << std::strerror(errno);
}

// `prog` stays owned by the caller (and outlives the link).
inline void with_link(const sys::unique_fd& prog, int link_fd, const char* what, const check_fn& check,
                      std::uint32_t map = 0) {
  sys::unique_fd link(link_fd);
  ASSERT_TRUE(link.valid()) << what << ": " << std::strerror(errno);
  check({std::move(link), prog ? prog_id(prog.get()) : 0, map});
}

// A veth (netkit pair) in a private netns; f(ifindex). A kernel without veth (EOPNOTSUPP, as the report's
// probes then do) gives the namespace's lo instead.
template <class F>
inline void on_veth(F&& f, bool netkit = false) {
  auto r = sys::in_private_netns([&](const sys::netns_guard&) {
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl) << nl.error().describe();
    auto dev = netkit ? sys::create_netkit(nl.value(), "lt0", "lt1") : sys::create_veth(nl.value(), "lt0", "lt1");
    bool lo = !dev && !netkit && dev.error().code == EOPNOTSUPP;
    ASSERT_TRUE(dev || lo) << dev.error().describe();
    auto idx = sys::link_index(nl.value(), lo ? "lo" : "lt0");
    ASSERT_TRUE(idx) << idx.error().describe();
    f(idx.value());
  });
  ASSERT_TRUE(r) << r.error().describe();
}

inline std::string tracepoint_name() {
  for (const char* tp : probe::targets::quiet_raw_tracepoints)
    if (vmlinux_id((std::string("btf_trace_") + tp).c_str(), BTF_KIND_TYPEDEF)) return tp;
  return "sys_enter";
}

// struct_ops: a tcp_congestion_ops registered through a BPF_F_LINK map, built with libbpf's BTF API.
inline void struct_ops_link(const check_fn& check) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  ASSERT_NE(vmlinux, nullptr);
  std::unique_ptr<struct btf, void (*)(struct btf*)> guard(vmlinux, btf__free);
  int ops = btf__find_by_name_kind(vmlinux, "tcp_congestion_ops", BTF_KIND_STRUCT);
  int value = btf__find_by_name_kind(vmlinux, "bpf_struct_ops_tcp_congestion_ops", BTF_KIND_STRUCT);
  ASSERT_GT(ops, 0);
  ASSERT_GT(value, 0);
  const btf_type* ot = btf__type_by_id(vmlinux, ops);
  const btf_type* vt = btf__type_by_id(vmlinux, value);
  auto member = [&](const btf_type* t, const char* name) -> std::pair<int, std::size_t> {
    const btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); ++i)
      if (std::strcmp(btf__name_by_offset(vmlinux, m[i].name_off), name) == 0)
        return {i, btf_member_bit_offset(t, i) / 8};
    return {-1, 0};
  };
  std::vector<char> data(static_cast<std::size_t>(btf__resolve_size(vmlinux, value)), 0);
  std::size_t base = member(vt, "data").second;
  std::vector<sys::unique_fd> progs;
  for (const char* m : {"ssthresh", "undo_cwnd", "cong_avoid"}) {
    auto [idx, off] = member(ot, m);
    ASSERT_GE(idx, 0) << m;
    progs.push_back(libbpf_prog(BPF_PROG_TYPE_STRUCT_OPS, idx, 1, static_cast<std::uint32_t>(ops)));
    expect_ok(progs.back(), m);
    std::uint64_t fd = static_cast<std::uint64_t>(progs.back().get());
    std::memcpy(data.data() + base + off, &fd, sizeof(fd));
  }
  std::string name = "lt" + std::to_string(getpid() % 100000);
  std::memcpy(data.data() + base + member(ot, "name").second, name.c_str(), name.size() + 1);
  struct btf* own = btf__new_empty();
  std::unique_ptr<struct btf, void (*)(struct btf*)> own_guard(own, btf__free);
  btf__add_int(own, "int", 4, BTF_INT_SIGNED);
  ASSERT_EQ(btf__load_into_kernel(own), 0);
  LIBBPF_OPTS(bpf_map_create_opts, mo, .btf_fd = static_cast<__u32>(btf__fd(own)),
              .btf_vmlinux_value_type_id = static_cast<__u32>(value), .map_flags = BPF_F_LINK);
  sys::unique_fd map(bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "link_test", 4, static_cast<__u32>(data.size()), 1, &mo));
  expect_ok(map, "struct_ops map");
  int key = 0;
  ASSERT_EQ(bpf_map_update_elem(map.get(), &key, data.data(), 0), 0) << std::strerror(errno);
  sys::unique_fd none;
  with_link(none, bpf_link_create(map.get(), 0, BPF_STRUCT_OPS, nullptr), "struct_ops link", check, map_id(map.get()));
}

inline bool make_raw_tracepoint(const check_fn& check) {
  auto prog = libbpf_prog(BPF_PROG_TYPE_RAW_TRACEPOINT);
  expect_ok(prog, "raw_tracepoint prog");
  int fd = bpf_raw_tracepoint_open(tracepoint_name().c_str(), prog.get());
  with_link(prog, fd, "raw_tracepoint_open", check);
  return true;
}

// A tracing program of attach type EAT on the kernel function TARGET, linked by BPF_LINK_CREATE;
// `inside` runs while the link is held. False when the kernel has no TARGET.
inline bool tracing_link(const char* target, bpf_attach_type eat, const char* what, const check_fn& inside) {
  auto id = vmlinux_id(target, BTF_KIND_FUNC);
  if (!id) return false;
  auto prog = libbpf_prog(BPF_PROG_TYPE_TRACING, eat, 0, *id);
  expect_ok(prog, (std::string(what) + " prog").c_str());
  with_link(prog, bpf_link_create(prog.get(), 0, eat, nullptr), (std::string(what) + " link").c_str(), inside);
  return true;
}

inline bool make_tracing(const check_fn& check) {
  return tracing_link("bpf_fentry_test1", BPF_TRACE_FENTRY, "fentry", check);
}

inline bool make_cgroup(const check_fn& check) {
  auto cg = sys::temp_cgroup::create("link-test");
  EXPECT_TRUE(cg) << cg.error().describe();
  if (!cg) return true;
  auto prog = libbpf_prog(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, 1);
  expect_ok(prog, "cgroup_skb prog");
  int fd = bpf_link_create(prog.get(), cg.value().fd(), BPF_CGROUP_INET_EGRESS, nullptr);
  with_link(prog, fd, "cgroup link", check);
  return true;
}

inline bool make_iter(const check_fn& check) {
  return tracing_link("bpf_iter_bpf_map", BPF_TRACE_ITER, "iter", [&](const made& m) {
    sys::unique_fd seq(bpf_iter_create(m.link.get()));
    EXPECT_TRUE(seq.valid()) << std::strerror(errno);
    char buf[64];
    EXPECT_GE(read(seq.get(), buf, sizeof(buf)), 0);
    check(m);
  });
}

inline bool make_netns(const check_fn& check) {
  auto prog = libbpf_prog(BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, 1);
  expect_ok(prog, "sk_lookup prog");
  auto r = sys::in_private_netns([&](const sys::netns_guard& ns) {
    with_link(prog, bpf_link_create(prog.get(), ns.fd(), BPF_SK_LOOKUP, nullptr), "netns link", check);
  });
  EXPECT_TRUE(r) << r.error().describe();
  return true;
}

inline bool make_device_link(const std::string& type, const check_fn& check) {
  bool xdp = type == "xdp";
  auto prog = libbpf_prog(xdp ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS, xdp ? BPF_XDP : 0, xdp ? 2 : 0);
  expect_ok(prog, "device prog");
  int at = xdp ? BPF_XDP : type == "tcx" ? attach("tcx_ingress") : attach("netkit_primary");
  on_veth(
      [&](int ifindex) {
        with_link(prog, bpf_link_create(prog.get(), ifindex, static_cast<bpf_attach_type>(at), nullptr), type.c_str(),
                  check);
      },
      type == "netkit");
  return true;
}

inline bool make_perf_event(const check_fn& check) {
  auto fs = sys::tracefs::locate();
  EXPECT_TRUE(fs) << fs.error().describe();
  if (!fs) return true;
  auto id = fs.value().event_id(probe::targets::perf_tracepoints[0].category, probe::targets::perf_tracepoints[0].name);
  for (const auto& ev : probe::targets::perf_tracepoints)
    if (!id) id = fs.value().event_id(ev.category, ev.name);
  EXPECT_TRUE(id) << id.error().describe();
  if (!id) return true;
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = id.value();
  sys::unique_fd pfd(static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
  expect_ok(pfd, "tracepoint perf event");
  auto prog = libbpf_prog(BPF_PROG_TYPE_TRACEPOINT);
  expect_ok(prog, "tracepoint prog");
  with_link(prog, bpf_link_create(prog.get(), pfd.get(), BPF_PERF_EVENT, nullptr), "perf link", check);
  return true;
}

inline bool make_kprobe_multi(const check_fn& check) {
  auto prog = libbpf_prog(BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI);
  expect_ok(prog, "kprobe_multi prog");
  const char* syms[] = {"bpf_fentry_test1"};
  LIBBPF_OPTS(bpf_link_create_opts, o, .kprobe_multi = {.cnt = 1, .syms = syms});
  with_link(prog, bpf_link_create(prog.get(), 0, BPF_TRACE_KPROBE_MULTI, &o), "kprobe_multi link", check);
  return true;
}

inline bool make_uprobe_multi(const check_fn& check) {
  auto loc = sys::locate_code(reinterpret_cast<const void*>(&link_test_uprobe_target));
  EXPECT_TRUE(loc) << loc.error().describe();
  if (!loc) return true;
  auto prog = libbpf_prog(BPF_PROG_TYPE_KPROBE, attach("trace_uprobe_multi"));
  expect_ok(prog, "uprobe_multi prog");
  unsigned long off = loc.value().offset;
  LIBBPF_OPTS(bpf_link_create_opts, o, .uprobe_multi = {.cnt = 1, .path = loc.value().path.c_str(), .offsets = &off});
  with_link(prog, bpf_link_create(prog.get(), 0, static_cast<bpf_attach_type>(attach("trace_uprobe_multi")), &o),
            "uprobe_multi link", [&](const made& m) {
              EXPECT_EQ(link_test_uprobe_target(2), 6);  // the probed function still works
              check(m);
            });
  return true;
}

inline bool make_netfilter(const check_fn& check) {
  auto prog = libbpf_prog(BPF_PROG_TYPE_NETFILTER, attach("netfilter"), 1);
  expect_ok(prog, "netfilter prog");
  auto r = sys::in_private_netns([&](const sys::netns_guard&) {
    LIBBPF_OPTS(bpf_link_create_opts, o,
                .netfilter = {.pf = 2 /* NFPROTO_IPV4 */, .hooknum = 1 /* LOCAL_IN */, .priority = -100});
    with_link(prog, bpf_link_create(prog.get(), 0, static_cast<bpf_attach_type>(attach("netfilter")), &o),
              "netfilter link", check);
  });
  EXPECT_TRUE(r) << r.error().describe();
  return true;
}

inline bool make_sockmap(const check_fn& check) {
  sys::unique_fd map(bpf_map_create(BPF_MAP_TYPE_SOCKMAP, "link_test", 4, 4, 1, nullptr));
  expect_ok(map, "sockmap");
  auto prog = libbpf_prog(BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT, 1);
  expect_ok(prog, "sk_msg prog");
  with_link(prog, bpf_link_create(prog.get(), map.get(), BPF_SK_MSG_VERDICT, nullptr), "sockmap link", check);
  return true;
}

inline bool make_tracing_multi(const check_fn& check) {
  // 7.2; libbpf 1.4 has no options for it, so BPF_LINK_CREATE is called directly:
  // link_create.tracing_multi = { u64 ids; u64 cookies; u32 cnt } at offset 16 of link_create.
  auto fn = vmlinux_id("bpf_fentry_test1", BTF_KIND_FUNC);
  if (!fn) return false;
  int at = attach("trace_fentry_multi");
  auto prog = libbpf_prog(BPF_PROG_TYPE_TRACING, at);
  if (!prog.valid()) prog = libbpf_prog(BPF_PROG_TYPE_TRACING, at, 0, *fn);
  expect_ok(prog, "fentry_multi prog");
  const std::uint32_t ids[] = {*fn};
  union bpf_attr a {};
  a.link_create.prog_fd = static_cast<std::uint32_t>(prog.get());
  a.link_create.attach_type = static_cast<std::uint32_t>(at);
  struct {
    std::uint64_t ids, cookies;
    std::uint32_t cnt;
  } multi{reinterpret_cast<std::uintptr_t>(ids), 0, 1};
  std::memcpy(reinterpret_cast<char*>(&a.link_create) + 16, &multi, 20);
  int fd = static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a)));
  with_link(prog, fd, "tracing_multi link", check);
  return true;
}

inline bool make_struct_ops(const check_fn& check) {
  struct_ops_link(check);
  return true;
}

// One maker per link type: creates the link on its own target and hands it to `check`; false when
// this kernel offers no way to make one. Catalog.EveryLinkRowHasAMaker keeps this in step with
// probe::link_rows.
const std::map<std::string, std::function<bool(const check_fn&)>, std::less<>>& makers() {
  static const std::map<std::string, std::function<bool(const check_fn&)>, std::less<>> m = {
      {"raw_tracepoint", make_raw_tracepoint},
      {"tracing", make_tracing},
      {"cgroup", make_cgroup},
      {"iter", make_iter},
      {"netns", make_netns},
      {"xdp", [](const check_fn& c) { return make_device_link("xdp", c); }},
      {"tcx", [](const check_fn& c) { return make_device_link("tcx", c); }},
      {"netkit", [](const check_fn& c) { return make_device_link("netkit", c); }},
      {"perf_event", make_perf_event},
      {"kprobe_multi", make_kprobe_multi},
      {"uprobe_multi", make_uprobe_multi},
      {"netfilter", make_netfilter},
      {"sockmap", make_sockmap},
      {"tracing_multi", make_tracing_multi},
      {"struct_ops", make_struct_ops},
  };
  return m;
}

inline bool make(const std::string& type, const check_fn& check) {
  auto it = makers().find(type);
  return it != makers().end() && it->second(check);
}

}  // namespace bpfprobe::testing
