// Link-type probe functions for network targets: a veth (or, when the kernel cannot make one, lo)
// in a private network namespace for xdp/tcx, a netkit pair for netkit, the namespace itself for
// netns links and netfilter hooks, a sockmap for sockmap links. The rows are in links.hpp.
#pragma once

#include <bpfprobe/catalog/link_setup.hpp>
#include <bpfprobe/sys/netlink.hpp>
#include <bpfprobe/sys/netns.hpp>
#include <string>
#include <string_view>

namespace bpfprobe::probe::links_detail {
using namespace link_setup;

// Runs f(nl, ifindex, where) inside a private network namespace on a fresh device of `kind`
// ("veth", "netkit"), which is deleted before the namespace goes; `where` describes the device for
// evidence. When the kernel cannot make a veth pair (veth is a module on Debian kernels, and a kernel
// booted without loadable modules answers EOPNOTSUPP "Unknown device type"), f runs on the
// namespace's own loopback device, which every network namespace has: XDP, tcx and clsact attach
// to lo as to any device (XDP in generic mode, since lo has no driver XDP). netkit has no such
// fallback: the netkit probes ask whether netkit exists.
template <class F>
inline verdict with_device(std::string_view kind, F&& f, verdict (*create_failed)(const sys::error&)) {
  auto r = sys::in_private_netns([&](const sys::netns_guard&) -> verdict {
    auto nl = sys::rtnetlink::open();
    if (!nl) return missing_env("rtnetlink", nl.error());
    auto made = kind == "netkit" ? sys::create_netkit(nl.value(), "bpfprobe0", "bpfprobe1")
                                 : sys::create_veth(nl.value(), "bpfprobe0", "bpfprobe1");
    std::string where = kind == "netkit" ? "a netkit pair in a private netns" : "a veth in a private netns";
    std::string_view dev = "bpfprobe0";
    if (!made && kind == "veth") {
      dev = "lo";
      where = "lo of a private netns (no veth pair: " + sys::errno_name(made.error().code) + ")";
    } else if (!made) {
      return create_failed(made.error());
    }
    auto idx = sys::link_index(nl.value(), dev);
    if (!idx) return made ? missing_env("a test device", idx.error()) : create_failed(made.error());
    return f(nl.value(), idx.value(), where);
  });
  if (!r) return missing_env("a private network namespace", r.error());
  return std::move(r).value();
}

inline verdict veth_failed(const sys::error& e) { return missing_env("a veth pair", e); }

// xdp links (5.9, aa8d3a716b59) on a veth (native mode), or lo (generic mode).
inline verdict xdp(const context& ctx, std::string_view attach) {
  auto prog = load(ctx, {.type = "xdp", .attach = attach, .ret = 2 /* XDP_PASS */});
  if (!prog) return prog.v;
  return with_device(
      "veth",
      [&](sys::rtnetlink&, int ifindex, const std::string& where) -> verdict {
        return create_link(ctx, {.prog_fd = prog.fd->get(), .target = static_cast<std::uint32_t>(ifindex)}, attach,
                           "xdp", "xdp on " + where);
      },
      veth_failed);
}

// tcx (6.6, e420bed02507) and netkit (6.7, 35dfaad7188c) links: a sched_cls program attached
// through the mprog API to a device of `kind`.
inline verdict mprog_device_link(const context& ctx, std::string_view attach, std::string_view kind,
                                 std::string_view link_type, verdict (*create_failed)(const sys::error&)) {
  auto prog = load(ctx, {.type = "sched_cls"});
  if (!prog) return prog.v;
  return with_device(
      kind,
      [&](sys::rtnetlink&, int ifindex, const std::string& where) -> verdict {
        return create_link(ctx,
                           {.prog_fd = prog.fd->get(),
                            .target = static_cast<std::uint32_t>(ifindex),
                            .part = sys::link_parts::mprog{}},
                           attach, link_type, std::string(attach) + " on " + where);
      },
      create_failed);
}

inline verdict tcx(const context& ctx, std::string_view attach) {
  return mprog_device_link(ctx, attach, "veth", "tcx", veth_failed);
}

// rtnetlink loads a netkit module on demand, so "Unknown device type" after that means the kernel
// has no netkit at all.
inline verdict netkit_failed(const sys::error& e) {
  if (e.code == EOPNOTSUPP) return verdict::no("no netkit device driver in this kernel", e.code, e.describe());
  return missing_env("a netkit pair", e);
}

inline verdict netkit(const context& ctx, std::string_view attach) {
  if (!attach_value(ctx, attach)) return verdict::no("kernel does not define attach type " + std::string(attach));
  return mprog_device_link(ctx, attach, "netkit", "netkit", netkit_failed);
}

// netns links (5.8 flow_dissector 7f045a49fee0; 5.9 sk_lookup e9ddbb7707ff) on a private netns.
inline verdict netns(const context& ctx, std::string_view attach) {
  bool lookup = attach == "sk_lookup";
  auto prog = load(ctx, {.type = lookup ? "sk_lookup" : "flow_dissector", .attach = attach, .ret = lookup ? 1 : 0});
  if (!prog) return prog.v;
  auto r = sys::in_private_netns([&](const sys::netns_guard& ns) -> verdict {
    return create_link(ctx, {.prog_fd = prog.fd->get(), .target = static_cast<std::uint32_t>(ns.fd())}, attach, "netns",
                       std::string(attach) + " on a private netns");
  });
  if (!r) return missing_env("a private network namespace", r.error());
  return std::move(r).value();
}

// uapi <linux/netfilter.h> values; that header pulls in <linux/in.h>, which clashes with glibc's.
inline constexpr std::uint32_t nfproto_ipv4 = 2, nf_inet_local_in = 1;

// netfilter links (6.4, 84601d6ee68a): an IPv4 LOCAL_IN hook in a private netns.
inline verdict netfilter_hook(const context& ctx, std::string_view attach, std::uint32_t flags) {
  auto prog = load(ctx, {.type = "netfilter", .attach = attach, .ret = 1 /* NF_ACCEPT */});
  if (!prog) return prog.v;
  auto r = sys::in_private_netns([&](const sys::netns_guard&) -> verdict {
    return create_link(ctx,
                       {.prog_fd = prog.fd->get(),
                        .part =
                            sys::link_parts::netfilter{
                                .pf = nfproto_ipv4, .hooknum = nf_inet_local_in, .priority = -128, .flags = flags}},
                       attach, "netfilter",
                       std::string("IPv4 LOCAL_IN hook") + (flags ? " with IP defrag" : "") + " in a private netns");
  });
  if (!r) return missing_env("a private network namespace", r.error());
  return std::move(r).value();
}
inline verdict netfilter(const context& ctx, std::string_view attach) { return netfilter_hook(ctx, attach, 0); }

// sockmap links (6.10): sk_msg / sk_skb verdict and parser programs on a sockmap.
inline verdict sockmap(const context& ctx, std::string_view attach) {
  auto map_type = btf::kernel_enums::value_of(ctx.enums().map_types, "sockmap");
  if (!map_type) return verdict::no("kernel does not define map type sockmap");
  auto map = sys::map_create({.type = static_cast<std::uint32_t>(*map_type), .name = object_name});
  if (!map) return missing_env("a sockmap", map.error());
  auto prog = load(ctx, {.type = attach == "sk_msg_verdict" ? "sk_msg" : "sk_skb", .attach = attach, .ret = 1});
  if (!prog) return prog.v;
  return create_link(ctx, {.prog_fd = prog.fd->get(), .target = static_cast<std::uint32_t>(map.value().get())}, attach,
                     "sockmap", std::string(attach) + " on a sockmap");
}

}  // namespace bpfprobe::probe::links_detail
