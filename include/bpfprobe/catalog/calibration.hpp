// The calibration family (fact key calib:NAME, report section "calibration"): facts only attaching
// a tiny program and firing it once can tell - does it run, and with what. Each row names its
// probe and the trigger that fires it from this process; a probe takes the trigger as a parameter.
// Run only when asked (prober::calibrate, --calibrate, --require calib:...).
#pragma once

#include <bpfprobe/catalog/calib_net.hpp>
#include <bpfprobe/catalog/calib_trace.hpp>
#include <bpfprobe/catalog/facts.hpp>
#include <functional>
#include <vector>

namespace bpfprobe::probe {

using calib_trigger = calib_setup::trigger;

struct calib_probe {
  doc info;  // name, and first kernel/commit from calib_docs
  std::function<verdict(const context&, const calib_trigger&)> run;
  calib_trigger fire;  // what fires it from this process
  // A value measured beside the verdict, and its unit ("ns", "bytes"; empty: none measured).
  std::string_view unit = {};
};

inline doc calib_doc(std::string_view name) {
  const doc* d = find_doc(calib_docs, name);
  return d ? *d : doc{name, "", ""};
}

inline const std::vector<calib_probe>& calib_probes() {
  using namespace calib_detail;
  using calib_setup::call_code, calib_setup::fire_syscall, calib_setup::open_a_file, calib_setup::send_udp_lo,
      calib_setup::send_udp_from_cgroup, calib_setup::test_run_prog;
  auto kp = [](kprobe_kind k) { return [k](const context& c, const calib_trigger& t) { return kprobe(c, t, k); }; };
  static const std::vector<calib_probe> rows = {
      {calib_doc("tracepoint_fires"), tracepoint_fires, fire_syscall},
      {calib_doc("raw_tp_fires"), raw_tp_fires, fire_syscall},
      {calib_doc("tp_btf_fires"), tp_btf_fires, fire_syscall},
      {calib_doc("uprobe_fires"), [](const context& c, const calib_trigger& t) { return uprobe(c, t, false, false); },
       call_code},
      {calib_doc("uretprobe_fires"), [](const context& c, const calib_trigger& t) { return uprobe(c, t, true, false); },
       call_code},
      {calib_doc("uprobe_cookie"), [](const context& c, const calib_trigger& t) { return uprobe(c, t, false, true); },
       call_code, "cookie"},
      {calib_doc("xdp_fires"), xdp_fires, send_udp_lo},
      {calib_doc("tcx_fires"), tcx_fires, send_udp_lo},
      {calib_doc("cgroup_skb_fires"), cgroup_skb_fires, send_udp_from_cgroup},
      {calib_doc("ringbuf_delivers"), ringbuf_delivers, fire_syscall},
      {calib_doc("ktime_offset"), ktime_offset, fire_syscall, "ns"},
      {calib_doc("kprobe_fires"), kp(kprobe_kind::entry), fire_syscall},
      {calib_doc("kretprobe_fires"), kp(kprobe_kind::ret), fire_syscall},
      {calib_doc("kprobe_multi_fires"), kprobe_multi_fires, fire_syscall},
      {calib_doc("kprobe_cookie"), kp(kprobe_kind::cookie), fire_syscall, "cookie"},
      {calib_doc("kprobe_ip_offset"), kp(kprobe_kind::ip), fire_syscall, "bytes"},
      {calib_doc("fentry_fires"), [](const context& c, const calib_trigger& t) { return fentry(c, t, false); },
       test_run_prog},
      {calib_doc("fexit_fires"), [](const context& c, const calib_trigger& t) { return fentry(c, t, true); },
       test_run_prog},
      {calib_doc("lsm_active"), lsm_active, open_a_file},
  };
  return rows;
}

inline const calib_probe* find_calib(std::string_view name) {
  for (const auto& row : calib_probes())
    if (row.info.name == name) return &row;
  return nullptr;
}

// The row's verdict with its own trigger.
inline verdict run_calib(const context& ctx, const calib_probe& row) { return row.run(ctx, row.fire); }

inline std::string calib_key(std::string_view name) { return "calib/" + std::string(name); }

}  // namespace bpfprobe::probe
