// TC on a device: a tcx link (BPF_TCX_INGRESS/EGRESS, 6.6) or, the legacy way, a clsact qdisc (4.5)
// with a cls_bpf filter in direct-action mode (4.4) through libbpf's bpf_tc_* calls.
#pragma once

#include <bpfprobe/attach/xdp.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/netlink_tc.hpp>

namespace bpfprobe::attach {

using sys::tc_direction;

// Where the legacy filter goes. Priority and handle 1 are what tc(8) and libbpf use by default;
// libbpf names the filter "<program name>:[<program id>]".
struct tc_filter_options {
  std::uint16_t priority = 1;
  std::uint32_t handle = 1;
};

namespace detail {

inline bpf_tc_hook tc_hook(int ifindex, tc_direction d) {
  bpf_tc_hook h{};
  h.sz = sizeof(h);
  h.ifindex = ifindex;
  h.attach_point = d == tc_direction::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return h;
}

inline bpf_tc_opts tc_opts(const tc_filter_options& o, int prog_fd = 0) {
  bpf_tc_opts t{};
  t.sz = sizeof(t);
  t.prog_fd = prog_fd;
  t.handle = o.handle;
  t.priority = o.priority;
  return t;
}

// Deletes the clsact qdisc of `ifindex` (and with it every filter under it).
inline sys::result<void> del_clsact(int ifindex) {
  auto both = tc_hook(ifindex, tc_direction::ingress);
  both.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
  return libbpf_call(bpf_tc_hook_destroy(&both), "bpf_tc_hook_destroy " + std::to_string(ifindex));
}

// A cls_bpf filter: deleted on drop, in the namespace it was attached in; the clsact qdisc too when
// we created it and no filter is left. libbpf lists no filters: the emptiness check is a dump of
// our own (sys/netlink_tc.hpp).
class tc_netlink_hold final : public hold {
 public:
  tc_netlink_hold(sys::unique_fd netns, int ifindex, tc_direction d, tc_filter_options o, bool own_qdisc)
      : netns_(std::move(netns)), ifindex_(ifindex), dir_(d), opt_(o), own_qdisc_(own_qdisc), live_(true) {}
  ~tc_netlink_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (!std::exchange(live_, false)) return BOOST_OUTCOME_V2_NAMESPACE::success();
    return sys::in_netns(netns_.get(), [&]() -> sys::result<void> {
      auto hook = tc_hook(ifindex_, dir_);
      auto opts = tc_opts(opt_);
      auto del = libbpf_call(bpf_tc_detach(&hook, &opts), "bpf_tc_detach " + std::to_string(ifindex_));
      if (own_qdisc_ && sys::no_tc_filters(ifindex_)) (void)del_clsact(ifindex_);
      return del;
    });
  }

 private:
  sys::unique_fd netns_;
  int ifindex_;
  tc_direction dir_;
  tc_filter_options opt_;
  bool own_qdisc_;
  bool live_;
};

}  // namespace detail

inline sys::result<attachment> tc(const decide::choice& c, int prog_fd, int ifindex, tc_direction dir,
                                  const policy& pol = {}, tc_filter_options opt = {}) {
  std::vector<step> steps;
  // EINVAL: no tcx attach type (before 6.6) for a sched_cls program.
  steps.push_back({std::string(decide::path::tcx),
                   {},
                   true,
                   classify::not_supported_here,
                   [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::link_create(
                         {.prog_fd = prog_fd,
                          .target = static_cast<std::uint32_t>(ifindex),
                          .attach_type = dir == tc_direction::ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS});
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  steps.push_back(
      {std::string(decide::path::netlink),
       {},
       false,
       {},
       [&](attachment& a) -> sys::result<std::unique_ptr<detail::hold>> {
         auto netns = sys::open_thread_netns();  // the namespace the detach runs in
         if (!netns) return netns.error();
         auto hook = detail::tc_hook(ifindex, dir);
         auto qdisc = detail::libbpf_call(bpf_tc_hook_create(&hook), "bpf_tc_hook_create " + std::to_string(ifindex));
         bool own_qdisc = static_cast<bool>(qdisc);
         if (!qdisc && qdisc.error().code != EEXIST) return qdisc.error();
         auto opts = detail::tc_opts(opt, prog_fd);
         auto filter = detail::libbpf_call(bpf_tc_attach(&hook, &opts), "bpf_tc_attach " + std::to_string(ifindex));
         if (!filter) {
           if (own_qdisc) (void)detail::del_clsact(ifindex);
           return filter.error();
         }
         a.add_detail("qdisc", own_qdisc ? "clsact (created)" : "clsact (existing)");
         return std::make_unique<detail::tc_netlink_hold>(std::move(netns).value(), ifindex, dir, opt, own_qdisc);
       }});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> tc(prober& p, int prog_fd, int ifindex, tc_direction dir, const policy& pol = {},
                                  tc_filter_options opt = {}) {
  return tc(decide::tc(decide::from(p)), prog_fd, ifindex, dir, pol, opt);
}

}  // namespace bpfprobe::attach
