// A veth pair in a private network namespace for the XDP/TC attach tests, and frames to send over it.
#pragma once

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "common.hpp"

namespace bpfprobe::testing {

// A veth pair (at0 <-> at1), both up, in a private network namespace this thread is in.
class veth_netns {
 public:
  void SetUp() {
    auto g = sys::netns_guard::enter_private();
    ASSERT_TRUE(g) << g.error().describe();
    guard_.emplace(std::move(g).value());
    auto nl = sys::rtnetlink::open();
    ASSERT_TRUE(nl) << nl.error().describe();
    nl_.emplace(std::move(nl).value());
    auto made = sys::create_veth(*nl_, "at0", "at1");
    // A kernel built without veth (a matrix guest without its modules package) answers EOPNOTSUPP.
    if (!made && made.error().code == EOPNOTSUPP) GTEST_SKIP() << "no veth driver: " << made.error().describe();
    ASSERT_TRUE(made) << made.error().describe();
    auto i0 = sys::link_index(*nl_, "at0");
    auto i1 = sys::link_index(*nl_, "at1");
    ASSERT_TRUE(i0 && i1);
    if0 = i0.value();
    if1 = i1.value();
    ASSERT_TRUE(sys::set_link_up(*nl_, if0));
    ASSERT_TRUE(sys::set_link_up(*nl_, if1));
    // The kernel activates the queues of a device whose carrier came up asynchronously (linkwatch);
    // until then frames sent out of at0 are dropped before they reach at1.
    for (int ifindex : {if0, if1}) {
      bool up = false;
      for (int i = 0; i < 400 && !up; ++i) {
        up = oper_state(ifindex) == IF_OPER_UP;
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      ASSERT_TRUE(up) << "device " << ifindex << " did not come up";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  int oper_state(int ifindex) {
    sys::nl_message m(RTM_GETLINK, 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    m.put(ifi);
    int state = -1;
    auto r = nl_->transact(m, "RTM_GETLINK", [&](const nlmsghdr* h) {
      if (h->nlmsg_type != RTM_NEWLINK) return;
      const char* attrs = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(ifinfomsg));
      sys::for_each_attr(attrs, h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)),
                         [&](std::uint16_t type, const char* p, std::size_t n) {
                           if (type == IFLA_OPERSTATE && n >= 1) state = static_cast<unsigned char>(*p);
                         });
    });
    return r ? state : -1;
  }
  void TearDown() {
    nl_.reset();
    guard_.reset();  // the namespace and its devices go with the last reference
  }

  // Sends `n` frames of test_ethertype out of at0 with a packet socket (they arrive on at1).
  void send_frames(int n) {
    sys::unique_fd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(s.valid()) << "socket(AF_PACKET): " << std::strerror(errno);
    unsigned char frame[60] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, test_ethertype >> 8, test_ethertype & 0xff};
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = if0;
    to.sll_protocol = static_cast<std::uint16_t>((test_ethertype >> 8) | (test_ethertype << 8));
    to.sll_halen = ETH_ALEN;
    std::memset(to.sll_addr, 0xff, ETH_ALEN);
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(::sendto(s.get(), frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
                static_cast<ssize_t>(sizeof(frame)))
          << std::strerror(errno);
  }

  sys::rtnetlink& nl() { return *nl_; }
  int if0 = 0, if1 = 0;

 private:
  std::optional<sys::netns_guard> guard_;
  std::optional<sys::rtnetlink> nl_;
};

// A root-only test (Base: ::testing::Test or TestWithParam<...>) with its own veth pair.
template <class Base>
class veth_test : public Base, public veth_netns {
 protected:
  void SetUp() override {
    BPFPROBE_REQUIRE_ROOT();
    veth_netns::SetUp();
  }
  void TearDown() override { veth_netns::TearDown(); }
};

// Waits (briefly: delivery is asynchronous) until the counter reaches `want`.
template <class F>
inline std::uint64_t wait_until(F&& value, std::uint64_t want) {
  for (int i = 0; i < 200; ++i) {
    auto v = value();
    if (v >= want) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return value();
}

inline std::uint64_t wait_for(const sys::unique_fd& map, std::uint64_t want) {
  for (int i = 0; i < 200; ++i) {
    auto v = counter(map);
    if (v >= want) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return counter(map);
}

}  // namespace bpfprobe::testing
