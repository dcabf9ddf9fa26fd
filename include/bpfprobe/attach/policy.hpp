// What a caller may ask of an attach call: force or forbid paths, allow paths the prober could not
// decide, pin in bpffs, and the XDP mode / perf event source options.
#pragma once

#include <algorithm>
#include <array>
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

// Names by enum value; an out-of-range value reads as "automatic".
inline constexpr std::array<std::string_view, 4> xdp_mode_names{"automatic", "driver", "generic", "offload"};
inline constexpr std::array<std::string_view, 3> event_source_names{"automatic", "pmu", "tracefs"};

constexpr std::string_view to_string(xdp_mode m) noexcept {
  auto i = static_cast<std::size_t>(m);
  return i < xdp_mode_names.size() ? xdp_mode_names[i] : xdp_mode_names[0];
}

constexpr std::string_view to_string(event_source s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < event_source_names.size() ? event_source_names[i] : event_source_names[0];
}

}  // namespace bpfprobe::attach
