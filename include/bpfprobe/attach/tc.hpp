// TC on a device: a tcx link (BPF_TCX_INGRESS/EGRESS, 6.6) or, the legacy way libbpf's bpf_tc_*
// also takes, a clsact qdisc (4.5) with a cls_bpf filter in direct-action mode (4.4).
#pragma once

#include <bpfprobe/attach/xdp.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/netlink_tc.hpp>

namespace bpfprobe::attach {

using sys::tc_direction;

// Where the legacy filter goes. Priority and handle 1 are what tc(8) and libbpf use by default.
struct tc_filter_options {
  std::uint16_t priority = 1;
  std::uint32_t handle = 1;
  std::string_view name = "bpfprobe";
};

namespace detail {

// A cls_bpf filter: deleted on drop; the clsact qdisc too when we created it and no filter is left.
class tc_netlink_hold final : public hold {
 public:
  tc_netlink_hold(sys::rtnetlink nl, int ifindex, tc_direction d, tc_filter_options o, bool own_qdisc)
      : nl_(std::move(nl)), ifindex_(ifindex), dir_(d), opt_(o), own_qdisc_(own_qdisc), live_(true) {}
  ~tc_netlink_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (!std::exchange(live_, false)) return BOOST_OUTCOME_V2_NAMESPACE::success();
    auto del = sys::del_cls_bpf(*nl_, ifindex_, dir_, opt_.priority, opt_.handle);
    if (own_qdisc_) {
      bool empty = true;
      for (auto d : {tc_direction::ingress, tc_direction::egress}) {
        auto f = sys::tc_filters(*nl_, ifindex_, d);
        if (!f || !f.value().empty()) empty = false;
      }
      if (empty) (void)sys::del_clsact(*nl_, ifindex_);
    }
    return del;
  }

 private:
  std::optional<sys::rtnetlink> nl_;
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
  steps.push_back({std::string(decide::path::netlink),
                   {},
                   false,
                   {},
                   [&](attachment& a) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto nl = sys::rtnetlink::open();
                     if (!nl) return nl.error();
                     auto qdisc = sys::add_clsact(nl.value(), ifindex);
                     bool own_qdisc = static_cast<bool>(qdisc);
                     if (!qdisc && qdisc.error().code != EEXIST) return qdisc.error();
                     auto filter = sys::add_cls_bpf(nl.value(), {.ifindex = ifindex,
                                                                 .direction = dir,
                                                                 .prog_fd = prog_fd,
                                                                 .name = opt.name,
                                                                 .priority = opt.priority,
                                                                 .handle = opt.handle,
                                                                 .direct_action = true});
                     if (!filter) {
                       if (own_qdisc) (void)sys::del_clsact(nl.value(), ifindex);
                       return filter.error();
                     }
                     a.add_detail("qdisc", own_qdisc ? "clsact (created)" : "clsact (existing)");
                     return std::make_unique<detail::tc_netlink_hold>(std::move(nl).value(), ifindex, dir, opt,
                                                                      own_qdisc);
                   }});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> tc(prober& p, int prog_fd, int ifindex, tc_direction dir, const policy& pol = {},
                                  tc_filter_options opt = {}) {
  return tc(decide::tc(decide::from(p)), prog_fd, ifindex, dir, pol, opt);
}

}  // namespace bpfprobe::attach
