// XDP on a device: bpf_link (BPF_LINK_CREATE with BPF_XDP, 5.9) or netlink IFLA_XDP (4.8) through
// libbpf's bpf_xdp_attach/detach/query. Runs in the calling thread's network namespace; a netlink
// attachment keeps that namespace to detach there later, from any thread.
#pragma once

#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <bpfprobe/attach/fallback.hpp>
#include <bpfprobe/decide/facts.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/netns.hpp>

namespace bpfprobe::attach {

namespace detail {

// libbpf's netlink calls answer 0 or a negative errno; the kernel's extended-ack text goes to
// libbpf's print callback only, so errors carry the errno and the call's name.
inline sys::result<void> libbpf_call(int rc, std::string op) {
  if (rc < 0) return sys::failure(-rc, std::move(op));
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

inline std::uint32_t xdp_flags(xdp_mode m) noexcept {
  switch (m) {
    case xdp_mode::automatic: return 0;
    case xdp_mode::driver: return XDP_FLAGS_DRV_MODE;
    case xdp_mode::generic: return XDP_FLAGS_SKB_MODE;
    case xdp_mode::offload: return XDP_FLAGS_HW_MODE;
  }
  return 0;
}

inline sys::result<std::uint32_t> prog_id(int prog_fd) {
  bpf_prog_info info{};
  if (auto r = sys::obj_info(prog_fd, info); !r) return r.error();
  return info.id;
}

// IFLA_XDP of a device. The size stops before feature_flags: with it libbpf also asks the netdev
// generic-netlink family, which nothing here needs.
inline sys::result<bpf_xdp_query_opts> xdp_query(int ifindex) {
  bpf_xdp_query_opts q{};
  q.sz = offsetof(bpf_xdp_query_opts, attach_mode) + sizeof(q.attach_mode);
  if (auto r = libbpf_call(bpf_xdp_query(ifindex, 0, &q), "bpf_xdp_query " + std::to_string(ifindex)); !r)
    return r.error();
  return q;
}

// The program attached in the mode `flag` selects (0 flags: the only one attached). Kernels before
// 4.19 report only IFLA_XDP_PROG_ID and the attach mode.
inline std::uint32_t id_in(const bpf_xdp_query_opts& q, std::uint32_t flag) noexcept {
  auto pick = [&](std::uint32_t per_mode, std::uint8_t mode) {
    return per_mode ? per_mode : (q.attach_mode == mode ? q.prog_id : 0);
  };
  switch (flag) {
    case XDP_FLAGS_SKB_MODE: return pick(q.skb_prog_id, XDP_ATTACHED_SKB);
    case XDP_FLAGS_DRV_MODE: return pick(q.drv_prog_id, XDP_ATTACHED_DRV);
    case XDP_FLAGS_HW_MODE: return pick(q.hw_prog_id, XDP_ATTACHED_HW);
    default: return q.prog_id;
  }
}

// The mode `id` is attached in: its flag (0: none) and its name for detail("mode").
inline std::pair<std::uint32_t, std::string> mode_of(const bpf_xdp_query_opts& q, std::uint32_t id) {
  for (auto [flag, name] : {std::pair{XDP_FLAGS_SKB_MODE, "generic"}, std::pair{XDP_FLAGS_DRV_MODE, "driver"},
                            std::pair{XDP_FLAGS_HW_MODE, "offload"}})
    if (id_in(q, flag) == id) return {flag, name};
  return {0, "none"};
}

inline std::string xdp_mode_of(int ifindex, std::uint32_t id) {
  auto q = xdp_query(ifindex);
  return q ? mode_of(q.value(), id).second : "unknown (" + q.error().describe() + ")";
}

// Netlink XDP: cleared on drop in the mode it went into, only while our program is still the one
// attached there, in the namespace it was attached in.
class xdp_netlink_hold final : public hold {
 public:
  xdp_netlink_hold(sys::unique_fd netns, int ifindex, std::uint32_t mode_flag, std::uint32_t prog_id)
      : netns_(std::move(netns)), ifindex_(ifindex), mode_flag_(mode_flag), prog_id_(prog_id) {}
  ~xdp_netlink_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (!prog_id_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    auto id = std::exchange(prog_id_, 0);
    return sys::in_netns(netns_.get(), [&]() -> sys::result<void> {
      auto q = xdp_query(ifindex_);
      if (!q) return q.error();
      if (id_in(q.value(), mode_flag_) != id)
        return sys::failure_msg("detach XDP", "another program replaced ours; left it attached", EBUSY);
      return libbpf_call(bpf_xdp_detach(ifindex_, mode_flag_, nullptr), "bpf_xdp_detach " + std::to_string(ifindex_));
    });
  }

 private:
  sys::unique_fd netns_;
  int ifindex_;
  std::uint32_t mode_flag_;
  std::uint32_t prog_id_;
};

}  // namespace detail

// Attaches an XDP program to `ifindex` by the best path `c` allows. With xdp_mode::automatic the
// kernel picks native mode when the driver has it, generic otherwise; the mode used is in
// detail("mode"). An already attached program is never replaced: EBUSY/EEXIST come back as they are.
inline sys::result<attachment> xdp(const decide::choice& c, int prog_fd, int ifindex, const policy& pol = {}) {
  std::uint32_t mode = detail::xdp_flags(pol.xdp);
  auto id = detail::prog_id(prog_fd);
  if (!id) return id.error();
  std::vector<step> steps;
  // EINVAL: no XDP link type (before 5.9); EOPNOTSUPP: the driver lacks the requested (native) mode.
  steps.push_back({std::string(decide::path::bpf_link),
                   {},
                   true,
                   classify::not_supported_here,
                   [&](attachment& a) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::link_create({.prog_fd = prog_fd,
                                                   .target = static_cast<std::uint32_t>(ifindex),
                                                   .attach_type = BPF_XDP,
                                                   .flags = mode});
                     if (!link) return link.error();
                     a.add_detail("mode", detail::xdp_mode_of(ifindex, id.value()));
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  // The last resort: nothing to fall back to.
  steps.push_back({std::string(decide::path::netlink),
                   {},
                   false,
                   {},
                   [&](attachment& a) -> sys::result<std::unique_ptr<detail::hold>> {
                     // libbpf acts in the calling thread's namespace: the detach runs there too.
                     auto netns = sys::open_thread_netns();
                     if (!netns) return netns.error();
                     auto set = detail::libbpf_call(
                         bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr),
                         "bpf_xdp_attach " + std::to_string(ifindex));
                     if (!set) return set.error();
                     // The mode our program went into, to clear exactly that one later.
                     auto q = detail::xdp_query(ifindex);
                     auto [flag, name] = q ? detail::mode_of(q.value(), id.value())
                                           : std::pair{mode, "unknown (" + q.error().describe() + ")"};
                     a.add_detail("mode", name);
                     return std::make_unique<detail::xdp_netlink_hold>(std::move(netns).value(), ifindex,
                                                                       flag ? flag : mode, id.value());
                   }});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> xdp(prober& p, int prog_fd, int ifindex, const policy& pol = {}) {
  return xdp(decide::xdp(decide::from(p)), prog_fd, ifindex, pol);
}

}  // namespace bpfprobe::attach
