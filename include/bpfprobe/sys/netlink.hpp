// A minimal rtnetlink client: enough to make test devices (veth, dummy, netkit) in a private
// network namespace and to attach BPF the legacy way (IFLA_XDP; clsact qdisc + cls_bpf filter).
// Every request asks for an ack; kernel errors come back with errno and, where the kernel gives
// one, its extended-ack message text (e.g. "Unknown device type").
#pragma once

// glibc's socket headers before the uapi ones (the reverse order clashes over struct in_addr).
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/syscalls.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::sys {

// Network byte order as a constant expression.
constexpr std::uint16_t net16(std::uint16_t v) noexcept {
  return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? static_cast<std::uint16_t>((v >> 8) | (v << 8)) : v;
}

// One netlink request under construction: header, a fixed family header, then attributes.
class nl_message {
 public:
  nl_message(std::uint16_t type, std::uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
    hdr()->nlmsg_len = NLMSG_HDRLEN;
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  }

  // Appends a fixed-size struct (ifinfomsg, tcmsg, ...), padded to the netlink alignment.
  template <class T>
  void put(const T& v) {
    append(&v, sizeof(v), NLMSG_ALIGN(sizeof(v)));
  }
  void attr(std::uint16_t type, const void* data, std::size_t len) {
    nlattr a{static_cast<std::uint16_t>(NLA_HDRLEN + len), type};
    append(&a, sizeof(a), NLA_HDRLEN);
    append(data, len, NLA_ALIGN(len));
  }
  void attr_u32(std::uint16_t type, std::uint32_t v) { attr(type, &v, sizeof(v)); }
  void attr_s32(std::uint16_t type, std::int32_t v) { attr(type, &v, sizeof(v)); }
  void attr_str(std::uint16_t type, std::string_view s) {
    std::string z(s);
    attr(type, z.c_str(), z.size() + 1);
  }
  // Opens a nested attribute; pass the returned offset to nest_end.
  std::size_t nest_begin(std::uint16_t type) {
    std::size_t off = buf_.size();
    nlattr a{NLA_HDRLEN, static_cast<std::uint16_t>(type | NLA_F_NESTED)};
    append(&a, sizeof(a), NLA_HDRLEN);
    return off;
  }
  void nest_end(std::size_t off) {
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + off);
    a->nla_len = static_cast<std::uint16_t>(buf_.size() - off);
  }

  nlmsghdr* hdr() noexcept { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  [[nodiscard]] const char* data() const noexcept { return buf_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }

 private:
  void append(const void* p, std::size_t len, std::size_t padded) {
    std::size_t off = buf_.size();
    buf_.resize(off + padded, 0);
    std::memcpy(buf_.data() + off, p, len);
    hdr()->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
  }
  std::vector<char> buf_;
};

// Walks the attributes in [data, data+len) and calls f(type, payload, payload_len).
template <class F>
inline void for_each_attr(const char* data, std::size_t len, F&& f) {
  while (len >= NLA_HDRLEN) {
    const auto* a = reinterpret_cast<const nlattr*>(data);
    if (a->nla_len < NLA_HDRLEN || a->nla_len > len) return;
    f(static_cast<std::uint16_t>(a->nla_type & NLA_TYPE_MASK), data + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    std::size_t step = NLA_ALIGN(a->nla_len);
    if (step >= len) return;
    data += step;
    len -= step;
  }
}

// The extended-ack message text of an NLMSG_ERROR message, if the kernel included one.
inline std::string ext_ack_message(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  std::size_t skip = sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) skip += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
  std::size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
  if (skip >= payload) return {};
  std::string msg;
  for_each_attr(reinterpret_cast<const char*>(e) + skip, payload - skip,
                [&](std::uint16_t type, const char* p, std::size_t n) {
                  if (type == NLMSGERR_ATTR_MSG) msg.assign(p, strnlen(p, n));
                });
  return msg;
}

// A NETLINK_ROUTE socket of the calling thread's network namespace (at the time of open()).
class rtnetlink {
 public:
  static result<rtnetlink> open() {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return failure(errno, "socket(NETLINK_ROUTE)");
    rtnetlink nl;
    nl.fd_.reset(fd);
    int one = 1;
    // Both are best effort: older kernels lack them and then send plain acks.
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    timeval tv{5, 0};
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return failure(errno, "bind(NETLINK_ROUTE)");
    return nl;
  }

  // Sends `m` (with NLM_F_ACK unless it is a dump) and reads until the kernel's ack, error, or
  // NLMSG_DONE. Every
  // other message with our sequence number is passed to on_reply. `op` names the request in errors.
  result<void> transact(nl_message& m, std::string_view op, const std::function<void(const nlmsghdr*)>& on_reply = {}) {
    auto* h = m.hdr();
    bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (!dump) h->nlmsg_flags |= NLM_F_ACK;  // a dump ends with NLMSG_DONE instead
    h->nlmsg_seq = ++seq_;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (syscalls::active().sendto(fd_.get(), m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                                  sizeof(kernel)) < 0)
      return failure(errno, std::string(op));
    std::vector<char> buf(64 * 1024);
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return failure(errno, std::string(op) + " (recv)");
      }
      auto len = static_cast<unsigned>(n);
      for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(r, len); r = NLMSG_NEXT(r, len)) {
        if (r->nlmsg_seq != seq_) continue;
        if (r->nlmsg_type == NLMSG_DONE) {
          int err = 0;
          if (r->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) std::memcpy(&err, NLMSG_DATA(r), sizeof(int));
          if (err < 0) return failure(-err, std::string(op));
          return BOOST_OUTCOME_V2_NAMESPACE::success();
        }
        if (r->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
          if (e->error == 0) {
            if (!dump) return BOOST_OUTCOME_V2_NAMESPACE::success();
            continue;
          }
          std::string text = ext_ack_message(r);
          if (text.empty()) return failure(-e->error, std::string(op));
          return failure_msg(std::string(op), text, -e->error);
        }
        if (on_reply) on_reply(r);
      }
    }
  }

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  rtnetlink() = default;
  unique_fd fd_;
  std::uint32_t seq_ = 0;
};

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
// (IFLA_XDP_{SKB,DRV,HW}_PROG_ID, 4.19+; IFLA_XDP_PROG_ID alone when only one mode is in use). The
// one reader of IFLA_XDP: the legacy XDP probe, the attach layer (detaching the right mode, proving
// what is attached) and the tests all use it.
struct xdp_state {
  std::uint8_t attached = XDP_ATTACHED_NONE;  // XDP_ATTACHED_*
  std::uint32_t prog_id = 0;                  // the program when exactly one mode is attached
  std::uint32_t skb_prog_id = 0, drv_prog_id = 0, hw_prog_id = 0;

  // The id in the mode a flag selects (0 flags: whichever single program is attached).
  [[nodiscard]] std::uint32_t id_for(std::uint32_t flags) const noexcept {
    if (flags & XDP_FLAGS_SKB_MODE) return skb_prog_id ? skb_prog_id : (attached == XDP_ATTACHED_SKB ? prog_id : 0);
    if (flags & XDP_FLAGS_DRV_MODE) return drv_prog_id ? drv_prog_id : (attached == XDP_ATTACHED_DRV ? prog_id : 0);
    if (flags & XDP_FLAGS_HW_MODE) return hw_prog_id ? hw_prog_id : (attached == XDP_ATTACHED_HW ? prog_id : 0);
    return prog_id;
  }
};

inline result<xdp_state> get_xdp(rtnetlink& nl, int ifindex) {
  auto m = detail::link_message(RTM_GETLINK, 0, ifindex);
  xdp_state st;
  auto r = nl.transact(m, "RTM_GETLINK " + std::to_string(ifindex), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(ifinfomsg));
    std::size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg));
    for_each_attr(attrs, len, [&](std::uint16_t type, const char* p, std::size_t n) {
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

// --- TC the legacy way: clsact qdisc (4.5+) + cls_bpf filter in direct-action mode (4.4+) ---

enum class tc_direction { ingress, egress };

inline std::uint32_t tc_parent(tc_direction d) noexcept {
  return TC_H_MAKE(TC_H_CLSACT, d == tc_direction::ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

namespace detail {
inline nl_message tc_message(std::uint16_t type, std::uint16_t flags, int ifindex, std::uint32_t handle,
                             std::uint32_t parent, std::uint32_t info = 0) {
  nl_message m(type, flags);
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = ifindex;
  t.tcm_handle = handle;
  t.tcm_parent = parent;
  t.tcm_info = info;
  m.put(t);
  return m;
}
}  // namespace detail

inline result<void> add_clsact(rtnetlink& nl, int ifindex) {
  auto m = detail::tc_message(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, TC_H_MAKE(TC_H_CLSACT, 0), TC_H_CLSACT);
  m.attr_str(TCA_KIND, "clsact");
  return nl.transact(m, "RTM_NEWQDISC clsact " + std::to_string(ifindex));
}

// Deleting the qdisc drops every filter (and its program reference) under it.
inline result<void> del_clsact(rtnetlink& nl, int ifindex) {
  auto m = detail::tc_message(RTM_DELQDISC, 0, ifindex, TC_H_MAKE(TC_H_CLSACT, 0), TC_H_CLSACT);
  m.attr_str(TCA_KIND, "clsact");
  return nl.transact(m, "RTM_DELQDISC clsact " + std::to_string(ifindex));
}

struct cls_bpf_args {
  int ifindex = 0;
  tc_direction direction = tc_direction::ingress;
  int prog_fd = -1;
  std::string_view name = "bpfprobe";
  std::uint16_t priority = 1;
  std::uint32_t handle = 1;
  bool direct_action = true;
};

inline result<void> add_cls_bpf(rtnetlink& nl, const cls_bpf_args& a) {
  std::uint32_t info = TC_H_MAKE(static_cast<std::uint32_t>(a.priority) << 16, net16(ETH_P_ALL));
  auto m =
      detail::tc_message(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, a.ifindex, a.handle, tc_parent(a.direction), info);
  m.attr_str(TCA_KIND, "bpf");
  auto opts = m.nest_begin(TCA_OPTIONS);
  m.attr_u32(TCA_BPF_FD, static_cast<std::uint32_t>(a.prog_fd));
  m.attr_str(TCA_BPF_NAME, a.name);
  if (a.direct_action) m.attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  m.nest_end(opts);
  return nl.transact(m, "RTM_NEWTFILTER bpf " + std::to_string(a.ifindex));
}

// IDs of the cls_bpf programs attached under one clsact direction (4.13+ reports TCA_BPF_ID).
inline result<std::vector<std::uint32_t>> cls_bpf_prog_ids(rtnetlink& nl, int ifindex, tc_direction d) {
  auto m = detail::tc_message(RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, tc_parent(d));
  std::vector<std::uint32_t> ids;
  auto r = nl.transact(m, "RTM_GETTFILTER " + std::to_string(ifindex), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWTFILTER) return;
    const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(tcmsg));
    std::size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg));
    for_each_attr(attrs, len, [&](std::uint16_t type, const char* p, std::size_t n) {
      if (type != TCA_OPTIONS) return;
      for_each_attr(p, n, [&](std::uint16_t t, const char* q, std::size_t k) {
        std::uint32_t id = 0;
        if (t == TCA_BPF_ID && k >= 4) ids.push_back((std::memcpy(&id, q, 4), id));
      });
    });
  });
  if (!r) return r.error();
  return ids;
}

}  // namespace bpfprobe::sys
