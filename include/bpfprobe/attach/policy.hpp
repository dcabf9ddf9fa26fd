// What a caller may ask of an attach call: force or forbid paths, allow paths the prober could not
// decide, pin in bpffs, and the XDP mode / perf event source options.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::attach {

// XDP mode: automatic lets the kernel pick (native when the driver has it, else generic).
enum class xdp_mode { automatic, driver, generic, offload };

// Where kprobe/uprobe perf events come from: the kprobe/uprobe PMU (4.17) or tracefs
// kprobe_events/uprobe_events. automatic: the PMU when the prober found it, else tracefs.
enum class event_source { automatic, pmu, tracefs };

struct policy {
  // Try only these paths, in this order, whatever their verdicts say (the kernel answers). Empty:
  // every candidate in the decide layer's order.
  std::vector<std::string> force;
  // Never try these paths.
  std::vector<std::string> forbid;
  // Also try paths whose verdict is unknown (e.g. EPERM while probing); they are skipped otherwise.
  bool try_unknown = false;
  // After a "not supported here" error, try the next candidate (see fallback.hpp for the errors).
  bool fallback = true;
  // Pin the attachment's bpf_link at this bpffs path; dropping the object then leaves it attached
  // until the pin is removed. Only bpf_link paths can be pinned; with a pin requested, the legacy
  // paths (netlink, PROG_ATTACH, perf ioctl) are skipped.
  std::string pin;
  xdp_mode xdp = xdp_mode::automatic;
  event_source events = event_source::automatic;

  [[nodiscard]] bool forbids(std::string_view path) const {
    return std::find(forbid.begin(), forbid.end(), path) != forbid.end();
  }

  // Convenience builders: policy::only("netlink"), policy{}.without("tcx").
  static policy only(std::string path) {
    policy p;
    p.force.push_back(std::move(path));
    return p;
  }
  policy without(std::string path) && {
    forbid.push_back(std::move(path));
    return std::move(*this);
  }
  policy pinned_at(std::string path) && {
    pin = std::move(path);
    return std::move(*this);
  }
};

constexpr std::string_view to_string(xdp_mode m) noexcept {
  switch (m) {
    case xdp_mode::automatic: return "automatic";
    case xdp_mode::driver: return "driver";
    case xdp_mode::generic: return "generic";
    case xdp_mode::offload: return "offload";
  }
  return "automatic";
}

constexpr std::string_view to_string(event_source s) noexcept {
  switch (s) {
    case event_source::automatic: return "automatic";
    case event_source::pmu: return "pmu";
    case event_source::tracefs: return "tracefs";
  }
  return "automatic";
}

}  // namespace bpfprobe::attach
