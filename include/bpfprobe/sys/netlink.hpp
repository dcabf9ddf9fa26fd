// Devices and legacy XDP over rtnetlink: test devices (veth, dummy, netkit) in a private network
// namespace, and IFLA_XDP set and read the way the legacy XDP probe needs it (with the kernel's
// extended-ack text). The legacy TC requests are in netlink_tc.hpp; the attach layer attaches
// through libbpf instead.
#pragma once

#include <bpfprobe/sys/netlink_tc.hpp>
#include <bpfprobe/sys/rtnetlink.hpp>

namespace bpfprobe::sys {

namespace detail {
inline nl_message link_message(std::uint16_t type, std::uint16_t flags, int ifindex = 0) {
  nl_message m(type, flags);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  m.put(ifi);
  return m;
}

// A device pair (veth, netkit): the peer is described by an ifinfomsg plus its name.
inline result<void> create_pair(rtnetlink& nl, std::string_view kind, std::string_view name, std::string_view peer,
                                std::uint16_t peer_attr, std::optional<std::uint32_t> netkit_mode = std::nullopt) {
  auto m = link_message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.attr_str(IFLA_IFNAME, name);
  auto info = m.nest_begin(IFLA_LINKINFO);
  m.attr_str(IFLA_INFO_KIND, kind);
  auto data = m.nest_begin(IFLA_INFO_DATA);
  auto peer_nest = m.nest_begin(peer_attr);
  ifinfomsg pifi{};
  pifi.ifi_family = AF_UNSPEC;
  m.put(pifi);
  m.attr_str(IFLA_IFNAME, peer);
  m.nest_end(peer_nest);
  if (netkit_mode) m.attr_u32(IFLA_NETKIT_MODE, *netkit_mode);
  m.nest_end(data);
  m.nest_end(info);
  return nl.transact(m, "RTM_NEWLINK " + std::string(kind) + " " + std::string(name));
}
}  // namespace detail

// ifindex of `name` in the socket's namespace.
inline result<int> link_index(rtnetlink& nl, std::string_view name) {
  auto m = detail::link_message(RTM_GETLINK, 0);
  m.attr_str(IFLA_IFNAME, name);
  int index = 0;
  auto r = nl.transact(m, "RTM_GETLINK " + std::string(name), [&](const nlmsghdr* h) {
    if (h->nlmsg_type == RTM_NEWLINK) index = static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index;
  });
  if (!r) return r.error();
  if (index <= 0) return failure_msg("RTM_GETLINK " + std::string(name), "no link in reply", ENODEV);
  return index;
}

inline result<void> create_veth(rtnetlink& nl, std::string_view name, std::string_view peer) {
  return detail::create_pair(nl, "veth", name, peer, VETH_INFO_PEER);
}

// netkit (6.7+) in L3 mode (its default); fails with EOPNOTSUPP "Unknown device type" without it.
inline result<void> create_netkit(rtnetlink& nl, std::string_view name, std::string_view peer) {
  return detail::create_pair(nl, "netkit", name, peer, IFLA_NETKIT_PEER_INFO, NETKIT_L3);
}

// A single device of a kind that needs no data: "dummy", "ifb", ...
inline result<void> create_link(rtnetlink& nl, std::string_view kind, std::string_view name) {
  auto m = detail::link_message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.attr_str(IFLA_IFNAME, name);
  auto info = m.nest_begin(IFLA_LINKINFO);
  m.attr_str(IFLA_INFO_KIND, kind);
  m.nest_end(info);
  return nl.transact(m, "RTM_NEWLINK " + std::string(kind) + " " + std::string(name));
}

inline result<void> delete_link(rtnetlink& nl, int ifindex) {
  auto m = detail::link_message(RTM_DELLINK, 0, ifindex);
  return nl.transact(m, "RTM_DELLINK " + std::to_string(ifindex));
}

inline result<void> set_link_up(rtnetlink& nl, int ifindex, bool up = true) {
  auto m = detail::link_message(RTM_NEWLINK, 0, ifindex);
  auto* ifi = reinterpret_cast<ifinfomsg*>(m.hdr() + 1);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  return nl.transact(m, "RTM_NEWLINK set " + std::to_string(ifindex) + (up ? " up" : " down"));
}
// --- XDP the legacy way: IFLA_XDP on RTM_SETLINK (4.8+) ---

// Attaches prog_fd (or detaches with -1). flags: XDP_FLAGS_SKB_MODE / DRV_MODE / UPDATE_IF_NOEXIST ...
inline result<void> set_xdp(rtnetlink& nl, int ifindex, int prog_fd, std::uint32_t flags = 0) {
  auto m = detail::link_message(RTM_SETLINK, 0, ifindex);
  auto xdp = m.nest_begin(IFLA_XDP);
  m.attr_s32(IFLA_XDP_FD, prog_fd);
  if (flags) m.attr_u32(IFLA_XDP_FLAGS, flags);
  m.nest_end(xdp);
  return nl.transact(m, "RTM_SETLINK IFLA_XDP " + std::to_string(ifindex));
}

// What IFLA_XDP of a device reports: the attach state and the program id in each mode
// (IFLA_XDP_{SKB,DRV,HW}_PROG_ID, 4.19+; IFLA_XDP_PROG_ID alone when only one mode is in use), as
// the legacy XDP probe and the tests read it (the attach layer asks libbpf's bpf_xdp_query).
struct xdp_state {
  std::uint8_t attached = XDP_ATTACHED_NONE;  // XDP_ATTACHED_*
  std::uint32_t prog_id = 0;                  // the program when exactly one mode is attached
  std::uint32_t skb_prog_id = 0, drv_prog_id = 0, hw_prog_id = 0;
};

inline result<xdp_state> get_xdp(rtnetlink& nl, int ifindex) {
  auto m = detail::link_message(RTM_GETLINK, 0, ifindex);
  xdp_state st;
  auto r = nl.transact(m, "RTM_GETLINK " + std::to_string(ifindex), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    for_each_reply_attr<ifinfomsg>(h, [&](std::uint16_t type, const char* p, std::size_t n) {
      if (type != IFLA_XDP) return;
      for_each_attr(p, n, [&](std::uint16_t t, const char* q, std::size_t k) {
        auto u32 = [&](std::uint32_t& out) {
          if (k >= 4) std::memcpy(&out, q, 4);
        };
        if (t == IFLA_XDP_ATTACHED && k >= 1) st.attached = static_cast<std::uint8_t>(*q);
        if (t == IFLA_XDP_PROG_ID) u32(st.prog_id);
        if (t == IFLA_XDP_SKB_PROG_ID) u32(st.skb_prog_id);
        if (t == IFLA_XDP_DRV_PROG_ID) u32(st.drv_prog_id);
        if (t == IFLA_XDP_HW_PROG_ID) u32(st.hw_prog_id);
      });
    });
  });
  if (!r) return r.error();
  return st;
}

}  // namespace bpfprobe::sys
