// TC the legacy way over rtnetlink: the clsact qdisc and cls_bpf filters as the legacy TC probe
// makes them (with the kernel's extended-ack text), and a dump of the filters under a clsact
// direction, which libbpf does not offer (bpf_tc_query finds one filter by handle and priority).
#pragma once

#include <bpfprobe/sys/rtnetlink.hpp>

namespace bpfprobe::sys {

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
    for_each_reply_attr<tcmsg>(h, [&](std::uint16_t type, const char* p, std::size_t n) {
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

// IDs of the cls_bpf programs attached under one clsact direction (4.13+ reports TCA_BPF_ID).
inline result<std::vector<std::uint32_t>> cls_bpf_prog_ids(rtnetlink& nl, int ifindex, tc_direction d) {
  auto filters = tc_filters(nl, ifindex, d);
  if (!filters) return filters.error();
  std::vector<std::uint32_t> ids;
  for (const auto& f : filters.value())
    if (f.kind == "bpf" && f.prog_id) ids.push_back(f.prog_id);
  return ids;
}

// Whether no filter of any kind is left under either clsact direction of `ifindex`, in the calling
// thread's namespace. An error counts as "some are left".
inline bool no_tc_filters(int ifindex) {
  auto nl = rtnetlink::open();
  if (!nl) return false;
  for (auto d : {tc_direction::ingress, tc_direction::egress}) {
    auto f = tc_filters(nl.value(), ifindex, d);
    if (!f || !f.value().empty()) return false;
  }
  return true;
}

}  // namespace bpfprobe::sys
