// The perf-event attach paths shared by kprobe, uprobe and tracepoint: a perf event (from a PMU or
// from tracefs) with the program on it through a perf_event bpf_link (5.15) or PERF_EVENT_IOC_SET_BPF.
#pragma once

#include <bpfprobe/attach/fallback.hpp>
#include <bpfprobe/decide/facts.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/sys/perf.hpp>
#include <optional>

namespace bpfprobe::attach {

namespace detail {

// A perf event that carries the program. Member order is teardown order reversed: the link goes
// first, then the event (disabled, then closed), then the tracefs probe event it came from (the
// kernel refuses to remove one still in use), then a temporary tracefs mount.
class perf_hold final : public hold {
 public:
  std::optional<sys::tracefs> fs;
  std::optional<sys::tracefs_probe_event> probe_event;
  sys::unique_fd event;
  sys::unique_fd link;

  // Dropped while pinned: only our fds close; the pinned link keeps the event (and its program).
  ~perf_hold() override {
    if (!pin_.pinned()) (void)detach();
  }
  sys::result<void> detach() override {
    auto r = pin_.unpin();
    link.reset();
    if (event) (void)sys::perf_ioctl(event.get(), PERF_EVENT_IOC_DISABLE, 0, "PERF_EVENT_IOC_DISABLE");
    event.reset();
    probe_event.reset();
    fs.reset();
    return r;
  }
  [[nodiscard]] int fd() const noexcept override { return link ? link.get() : event.get(); }
  // The link holds the perf event, so a pinned perf_event link survives us. A tracefs event would
  // not be removed after the pin goes, so only PMU events may be pinned.
  sys::result<void> pin(const std::string& path) override {
    if (!link) return hold::pin(path);
    if (probe_event) return sys::failure_msg("pin", "a tracefs event cannot outlive us; use the PMU", EOPNOTSUPP);
    return pin_.pin(link.get(), path);
  }
  [[nodiscard]] std::string pinned() const override { return pin_.path(); }

 private:
  pin_state pin_;
};

// Puts the program on the event: a perf_event link (perf_link) or the ioctl + enable (perf_ioctl).
inline sys::result<std::unique_ptr<hold>> finish_perf(std::unique_ptr<perf_hold> h, int prog_fd, bool use_link,
                                                      std::uint64_t cookie = 0) {
  if (use_link) {
    auto link = sys::link_create({.prog_fd = prog_fd,
                                  .target = static_cast<std::uint32_t>(h->event.get()),
                                  .attach_type = BPF_PERF_EVENT,
                                  .part = sys::link_parts::perf_event{cookie}});
    if (!link) return link.error();
    h->link = std::move(link).value();
  } else {
    if (auto r = sys::perf_set_bpf(h->event.get(), prog_fd); !r) return r.error();
    if (auto r = sys::perf_enable(h->event.get()); !r) return r.error();
  }
  return std::unique_ptr<hold>(std::move(h));
}

// The two perf paths for PROG_FD on an event that EVENT opens afresh for each attempt: a perf_event
// link (unless LINK_BLOCKED says why not) and the ioctl. NO_PROG: why neither can run without a program.
inline void add_perf_steps(std::vector<step>& steps, int prog_fd, const std::string& no_prog,
                           const std::string& link_blocked,
                           std::function<sys::result<std::unique_ptr<perf_hold>>(attachment&)> event) {
  const std::string missing = prog_fd < 0 ? no_prog : std::string();
  auto run = [event, prog_fd](bool use_link) {
    return [event, prog_fd, use_link](attachment& a) -> sys::result<std::unique_ptr<hold>> {
      auto h = event(a);
      if (!h) return h.error();
      return finish_perf(std::move(h).value(), prog_fd, use_link);
    };
  };
  steps.push_back({std::string(decide::path::perf_link), missing.empty() ? link_blocked : missing, true,
                   classify::not_supported_here, run(true)});
  steps.push_back({std::string(decide::path::perf_ioctl), missing, false, {}, run(false)});
}

// The event source a policy and the decision ask for: "pmu" or "tracefs".
inline std::string pick_source(const decide::choice& c, event_source want) {
  if (want == event_source::pmu) return "pmu";
  if (want == event_source::tracefs) return "tracefs";
  const std::string* s = c.attr("event_source");
  return s && *s == "tracefs" ? "tracefs" : "pmu";
}

// A tracefs kprobe/uprobe event opened as a tracepoint perf event (for `pid`, or system-wide).
inline sys::result<std::unique_ptr<perf_hold>> tracefs_event(sys::tracefs_probe_event::kind kind,
                                                             const std::string& definition, bool retprobe,
                                                             pid_t pid = -1) {
  auto h = std::make_unique<perf_hold>();
  auto fs = sys::tracefs::locate();
  if (!fs) return fs.error();
  h->fs.emplace(std::move(fs).value());
  auto ev = sys::tracefs_probe_event::create(*h->fs, kind, definition, retprobe);
  if (!ev) return ev.error();
  h->probe_event.emplace(std::move(ev).value());
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = h->probe_event->id();
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  auto fd = sys::perf_event_open(attr, pid, pid == -1 ? 0 : -1, "perf_event_open(" + h->probe_event->name() + ")");
  if (!fd) return fd.error();
  h->event = std::move(fd).value();
  return h;
}

// A kprobe or uprobe event: the tracefs event `definition`, or `target` at `offset` on the probe
// PMU of that kind; for `pid`, or system-wide with -1.
struct probe_spec {
  sys::tracefs_probe_event::kind kind;
  std::string definition;
  std::string target;
  std::uint64_t offset = 0;
  bool retprobe = false;
  pid_t pid = -1;
};

// The event of SPEC from SOURCE ("tracefs" or "pmu"), noted in the attachment's details.
inline sys::result<std::unique_ptr<perf_hold>> probe_event(attachment& a, const std::string& source,
                                                           const probe_spec& spec) {
  a.add_detail("event_source", source);
  if (source == "tracefs") {
    auto h = tracefs_event(spec.kind, spec.definition, spec.retprobe, spec.pid);
    if (h) a.add_detail("event", h.value()->probe_event->name());
    return h;
  }
  const char* name = spec.kind == sys::tracefs_probe_event::kind::kprobe ? "kprobe" : "uprobe";
  auto pmu = sys::find_pmu(name);
  if (!pmu) return pmu.error();
  auto fd = sys::open_probe_pmu(pmu.value(), name, spec.target, spec.offset, spec.retprobe, spec.pid);
  if (!fd) return fd.error();
  auto h = std::make_unique<perf_hold>();
  h->event = std::move(fd).value();
  return h;
}

// The perf paths of a kprobe or uprobe program PROG_FD on SPEC's event from SOURCE. A tracefs event
// cannot be pinned, so a policy that pins rules out its perf_event link.
inline void add_probe_steps(std::vector<step>& steps, int prog_fd, const std::string& no_prog, const policy& pol,
                            const std::string& source, probe_spec spec) {
  std::string pin_blocked = !pol.pin.empty() && source == "tracefs" ? "a tracefs event cannot be pinned" : "";
  add_perf_steps(steps, prog_fd, no_prog, pin_blocked,
                 [source, spec = std::move(spec)](attachment& a) { return probe_event(a, source, spec); });
}

}  // namespace detail

}  // namespace bpfprobe::attach
