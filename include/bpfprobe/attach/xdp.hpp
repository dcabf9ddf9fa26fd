// XDP on a device: bpf_link (BPF_LINK_CREATE with BPF_XDP, 5.9) or netlink IFLA_XDP (4.8).
// Runs in the calling thread's network namespace; the netlink socket that attached is kept to
// detach in the same namespace later, from any thread.
#pragma once

#include <bpfprobe/attach/fallback.hpp>
#include <bpfprobe/decide/facts.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/netlink.hpp>

namespace bpfprobe::attach {

namespace detail {

inline std::uint32_t xdp_flags(xdp_mode m) noexcept {
  switch (m) {
    case xdp_mode::automatic: return 0;
    case xdp_mode::driver: return XDP_FLAGS_DRV_MODE;
    case xdp_mode::generic: return XDP_FLAGS_SKB_MODE;
    case xdp_mode::offload: return XDP_FLAGS_HW_MODE;
  }
  return 0;
}

inline std::string_view xdp_attached_name(std::uint8_t a) noexcept {
  switch (a) {
    case XDP_ATTACHED_DRV: return "driver";
    case XDP_ATTACHED_SKB: return "generic";
    case XDP_ATTACHED_HW: return "offload";
    case XDP_ATTACHED_MULTI: return "multi";
    default: return "none";
  }
}

inline std::uint32_t mode_flag_of(std::uint8_t attached) noexcept {
  switch (attached) {
    case XDP_ATTACHED_DRV: return XDP_FLAGS_DRV_MODE;
    case XDP_ATTACHED_SKB: return XDP_FLAGS_SKB_MODE;
    case XDP_ATTACHED_HW: return XDP_FLAGS_HW_MODE;
    default: return 0;
  }
}

inline sys::result<std::uint32_t> prog_id(int prog_fd) {
  bpf_prog_info info{};
  if (auto r = sys::obj_info(prog_fd, info); !r) return r.error();
  return info.id;
}

// Which mode `id` is attached in, per the netlink dump (the answer for both paths).
inline std::string xdp_mode_of(sys::rtnetlink& nl, int ifindex, std::uint32_t id) {
  auto st = sys::get_xdp(nl, ifindex);
  if (!st) return "unknown (" + st.error().describe() + ")";
  const auto& s = st.value();
  if (s.skb_prog_id == id) return "generic";
  if (s.drv_prog_id == id) return "driver";
  if (s.hw_prog_id == id) return "offload";
  if (s.prog_id == id) return std::string(xdp_attached_name(s.attached));
  return "none";
}

// Netlink XDP: cleared on drop with the flags of the mode it went into, only while our program is
// still the one attached there.
class xdp_netlink_hold final : public hold {
 public:
  xdp_netlink_hold(sys::rtnetlink nl, int ifindex, std::uint32_t mode_flag, std::uint32_t prog_id)
      : nl_(std::move(nl)), ifindex_(ifindex), mode_flag_(mode_flag), prog_id_(prog_id) {}
  ~xdp_netlink_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (!prog_id_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    auto id = std::exchange(prog_id_, 0);
    auto st = sys::get_xdp(*nl_, ifindex_);
    if (!st) return st.error();
    if (st.value().id_for(mode_flag_) != id)
      return sys::failure_msg("detach XDP", "another program replaced ours; left it attached", EBUSY);
    return sys::set_xdp(*nl_, ifindex_, -1, mode_flag_);
  }

 private:
  std::optional<sys::rtnetlink> nl_;
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
  auto note_mode = [&](attachment& a) {
    auto nl = sys::rtnetlink::open();
    a.add_detail("mode", nl ? detail::xdp_mode_of(nl.value(), ifindex, id.value()) : std::string("unknown"));
  };
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
                     note_mode(a);
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  // The last resort: nothing to fall back to.
  steps.push_back({std::string(decide::path::netlink),
                   {},
                   false,
                   {},
                   [&](attachment& a) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto nl = sys::rtnetlink::open();
                     if (!nl) return nl.error();
                     auto set = sys::set_xdp(nl.value(), ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST);
                     if (!set) return set.error();
                     auto st = sys::get_xdp(nl.value(), ifindex);
                     std::uint32_t flag = mode;
                     if (!flag && st) {
                       // Find the mode our program went into, to clear exactly that one later.
                       const auto& s = st.value();
                       flag = s.skb_prog_id == id.value()   ? XDP_FLAGS_SKB_MODE
                              : s.drv_prog_id == id.value() ? XDP_FLAGS_DRV_MODE
                              : s.hw_prog_id == id.value()  ? XDP_FLAGS_HW_MODE
                                                            : detail::mode_flag_of(s.attached);
                     }
                     note_mode(a);
                     return std::make_unique<detail::xdp_netlink_hold>(std::move(nl).value(), ifindex, flag,
                                                                       id.value());
                   }});
  auto r = carry_out(c, pol, std::move(steps));
  return r;
}

inline sys::result<attachment> xdp(prober& p, int prog_fd, int ifindex, const policy& pol = {}) {
  return xdp(decide::xdp(decide::from(p)), prog_fd, ifindex, pol);
}

}  // namespace bpfprobe::attach
