// What the attach layer needs from rtnetlink beyond netlink.hpp: removing one cls_bpf filter and a
// dump of every filter under a clsact direction.
#pragma once

#include <bpfprobe/sys/netlink.hpp>

namespace bpfprobe::sys {

// Deletes the filter (priority, handle) of kind "bpf" under one clsact direction.
inline result<void> del_cls_bpf(rtnetlink& nl, int ifindex, tc_direction d, std::uint16_t priority,
                                std::uint32_t handle) {
  std::uint32_t info = TC_H_MAKE(static_cast<std::uint32_t>(priority) << 16, htons(ETH_P_ALL));
  auto m = detail::tc_message(RTM_DELTFILTER, 0, ifindex, handle, tc_parent(d), info);
  m.attr_str(TCA_KIND, "bpf");
  return nl.transact(m, "RTM_DELTFILTER bpf " + std::to_string(ifindex));
}

struct tc_filter {
  std::string kind;  // "bpf", "u32", ...
  std::uint16_t priority = 0;
  std::uint32_t handle = 0;
  std::uint32_t prog_id = 0;  // cls_bpf only (TCA_BPF_ID, 4.13+)
  bool direct_action = false;
  std::string name;  // cls_bpf TCA_BPF_NAME
};

// Every filter under one clsact direction (a dump; empty when there is no clsact qdisc: EINVAL).
inline result<std::vector<tc_filter>> tc_filters(rtnetlink& nl, int ifindex, tc_direction d) {
  auto m = detail::tc_message(RTM_GETTFILTER, NLM_F_DUMP, ifindex, 0, tc_parent(d));
  std::vector<tc_filter> out;
  auto r = nl.transact(m, "RTM_GETTFILTER " + std::to_string(ifindex), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWTFILTER) return;
    const auto* t = static_cast<const tcmsg*>(NLMSG_DATA(h));
    if (t->tcm_handle == 0) return;  // the per-priority chain head, not a filter instance
    tc_filter f;
    f.priority = static_cast<std::uint16_t>(TC_H_MAJ(t->tcm_info) >> 16);
    f.handle = t->tcm_handle;
    const char* attrs = reinterpret_cast<const char*>(t) + NLMSG_ALIGN(sizeof(tcmsg));
    std::size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg));
    for_each_attr(attrs, len, [&](std::uint16_t type, const char* p, std::size_t n) {
      if (type == TCA_KIND) f.kind.assign(p, strnlen(p, n));
      if (type != TCA_OPTIONS) return;
      for_each_attr(p, n, [&](std::uint16_t o, const char* q, std::size_t k) {
        if (o == TCA_BPF_ID && k >= 4) std::memcpy(&f.prog_id, q, 4);
        if (o == TCA_BPF_NAME) f.name.assign(q, strnlen(q, k));
        if (o == TCA_BPF_FLAGS && k >= 4) {
          std::uint32_t flags = 0;
          std::memcpy(&flags, q, 4);
          f.direct_action = flags & TCA_BPF_FLAG_ACT_DIRECT;
        }
      });
    });
    out.push_back(std::move(f));
  });
  if (!r) return r.error();
  return out;
}

}  // namespace bpfprobe::sys
