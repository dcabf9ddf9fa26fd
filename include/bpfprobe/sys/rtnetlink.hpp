// A minimal rtnetlink client: a request builder, an attribute walker and a NETLINK_ROUTE socket.
// Every request asks for an ack; kernel errors come back with errno and, where the kernel gives
// one, its extended-ack message text (e.g. "Unknown device type"). libbpf's netlink calls print
// that text through their print callback only; the probes need it in their verdicts.
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

// Walks the attributes of a reply after its fixed family header T (ifinfomsg, tcmsg, ...).
template <class T, class F>
inline void for_each_reply_attr(const nlmsghdr* h, F&& f) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(T))) return;
  for_each_attr(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(T)),
                h->nlmsg_len - NLMSG_LENGTH(sizeof(T)), f);
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

}  // namespace bpfprobe::sys
