// Calibration probes on network hooks: generic XDP and tcx on lo of a private network namespace,
// and cgroup_skb on a temporary cgroup, fired by a UDP datagram to 127.0.0.1 sent in that namespace
// (by a child that joined the cgroup, for cgroup_skb). Nothing else sends there, so the programs
// count every run.
#pragma once

#include <bpfprobe/catalog/calib_setup.hpp>
#include <bpfprobe/sys/netlink.hpp>
#include <bpfprobe/sys/netns.hpp>

namespace bpfprobe::probe::calib_detail {
using namespace calib_setup;

// Runs f(nl, ifindex of lo) on a thread of a new private network namespace whose lo is up.
template <class F>
verdict on_private_lo(F&& f) {
  auto r = sys::in_private_netns([&](const sys::netns_guard&) -> verdict {
    auto nl = sys::rtnetlink::open();
    if (!nl) return missing_env("rtnetlink", nl.error());
    auto lo = sys::link_index(nl.value(), "lo");
    if (!lo) return missing_env("lo in a private netns", lo.error());
    if (auto up = sys::set_link_up(nl.value(), lo.value()); !up)
      return missing_env("lo up in a private netns", up.error());
    return f(nl.value(), lo.value());
  });
  if (!r) return missing_env("a private network namespace", r.error());
  return std::move(r).value();
}

inline constexpr std::string_view udp_to_lo = "a UDP datagram to 127.0.0.1";

inline verdict xdp_fires(const context& ctx, const trigger& fire) {
  bool has_link_type = attach_value(ctx, "xdp").has_value();
  auto rec = make_recorder(ctx, {.type = "xdp", .attach = has_link_type ? "xdp" : "", .ret = 2 /* XDP_PASS */});
  if (!rec) return rec.fail;
  return on_private_lo([&](sys::rtnetlink& nl, int lo) -> verdict {
    std::optional<sys::unique_fd> link;
    std::string how = "BPF_LINK_CREATE";
    if (has_link_type) {
      auto l = link_setup::link_create(ctx, {.prog_fd = rec.prog.get(),
                                             .target = static_cast<std::uint32_t>(lo),
                                             .attach_type = *attach_value(ctx, "xdp")});
      if (!l && l.v.err != EINVAL) return l.v;
      if (l) link = std::move(l.fd);
    }
    struct netlink_undo {
      sys::rtnetlink* nl = nullptr;
      int ifindex = 0;
      ~netlink_undo() {
        if (nl) (void)sys::set_xdp(*nl, ifindex, -1, XDP_FLAGS_SKB_MODE);
      }
    } undo;
    if (!link) {  // before 5.9: IFLA_XDP
      how = "IFLA_XDP";
      if (auto r = sys::set_xdp(nl, lo, rec.prog.get(), XDP_FLAGS_SKB_MODE); !r) return attach_failed(ctx, r.error());
      undo.nl = &nl;
      undo.ifindex = lo;
    }
    return fire_and_read(rec, fire, {}, "generic XDP on lo of a private netns (" + how + ")", udp_to_lo).v;
  });
}

inline verdict tcx_fires(const context& ctx, const trigger& fire) {
  auto attach = attach_value(ctx, "tcx_ingress");
  if (!attach) return verdict::no("kernel does not define attach type tcx_ingress");
  auto rec = make_recorder(ctx, {.type = "sched_cls", .ret = 0 /* TCX_PASS */});
  if (!rec) return rec.fail;
  return on_private_lo([&](sys::rtnetlink&, int lo) -> verdict {
    auto link = link_setup::link_create(ctx, {.prog_fd = rec.prog.get(),
                                              .target = static_cast<std::uint32_t>(lo),
                                              .attach_type = *attach,
                                              .part = sys::link_parts::mprog{}});
    if (!link) return link.v;
    return fire_and_read(rec, fire, {}, "tcx ingress link on lo of a private netns", udp_to_lo).v;
  });
}

inline verdict cgroup_skb_fires(const context& ctx, const trigger& fire) {
  auto cg = sys::temp_cgroup::create("calib");
  if (!cg) return missing_env("a temporary cgroup v2", cg.error());
  auto rec = make_recorder(ctx, {.type = "cgroup_skb", .attach = "cgroup_inet_egress", .ret = 1});
  if (!rec) return rec.fail;
  auto type = *attach_value(ctx, "cgroup_inet_egress");
  std::string how = "BPF_LINK_CREATE";
  std::optional<sys::unique_fd> link;
  std::optional<sys::prog_attachment> attached;
  auto l = link_setup::link_create(
      ctx, {.prog_fd = rec.prog.get(), .target = static_cast<std::uint32_t>(cg.value().fd()), .attach_type = type});
  if (l) {
    link = std::move(l.fd);
  } else if (l.v.err == EINVAL) {  // before 5.7
    auto a = sys::prog_attachment::attach(cg.value().fd(), rec.prog.get(), type);
    if (!a) return attach_failed(ctx, a.error());
    attached.emplace(std::move(a).value());
    how = "BPF_PROG_ATTACH";
  } else {
    return l.v;
  }
  fire_site site{.cgroup = cg.value().path()};
  return on_private_lo([&](sys::rtnetlink&, int) -> verdict {
    return fire_and_read(rec, fire, site, "cgroup_skb egress on a temporary cgroup (" + how + ")",
                         std::string(udp_to_lo) + " from a child in the cgroup")
        .v;
  });
}

}  // namespace bpfprobe::probe::calib_detail
