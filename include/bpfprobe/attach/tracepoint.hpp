// Tracepoints: tp_btf (5.5) -> raw_tp (BPF_RAW_TRACEPOINT_OPEN, 4.17; a bpf_link since 5.7) ->
// perf tracepoint event (tracefs events/<category>/<name>/id) with a perf_event link or
// PERF_EVENT_IOC_SET_BPF.
#pragma once

#include <bpfprobe/attach/perf.hpp>
#include <bpfprobe/probe/classify.hpp>

namespace bpfprobe::attach {

struct tracepoint_programs {
  int tp_btf = -1;      // BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, attach_btf_id = typedef btf_trace_<name>
  int raw_tp = -1;      // BPF_PROG_TYPE_RAW_TRACEPOINT
  int tracepoint = -1;  // BPF_PROG_TYPE_TRACEPOINT (perf_link, perf_ioctl)
};

struct tracepoint_target {
  std::string category;  // tracefs events/<category>, e.g. "syscalls"; the raw paths ignore it
  std::string name;      // "sys_enter_getpid"; raw tracepoint "sys_enter"
};

inline sys::result<attachment> tracepoint(const decide::choice& c, const tracepoint_programs& progs,
                                          const tracepoint_target& t, const policy& pol = {}) {
  const std::string no_prog = "no program of this flavour given";
  std::vector<step> steps;
  // ENOTSUPP/EOPNOTSUPP/EINVAL: this kernel cannot attach a tp_btf program here.
  steps.push_back({std::string(decide::path::tp_btf), progs.tp_btf < 0 ? no_prog : std::string(), true,
                   classify::not_supported_here, [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::raw_tracepoint_open(progs.tp_btf);
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  // ENOENT: no raw tracepoint of that name (e.g. syscalls/sys_enter_* exist only as tracefs
  // events), the perf paths may still have it.
  steps.push_back({std::string(decide::path::raw_tp), progs.raw_tp < 0 ? no_prog : std::string(), true,
                   classify::not_supported_here_and({ENOENT}),
                   [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::raw_tracepoint_open(progs.raw_tp, t.name.c_str());
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  auto event = [&](attachment&) -> sys::result<std::unique_ptr<detail::perf_hold>> {
    auto h = std::make_unique<detail::perf_hold>();
    auto fs = sys::tracefs::locate();
    if (!fs) return fs.error();
    auto id = fs.value().event_id(t.category, t.name);
    if (!id) return id.error();
    auto fd = sys::open_tracepoint(id.value());
    if (!fd) return fd.error();
    h->event = std::move(fd).value();
    h->fs.emplace(std::move(fs).value());  // keeps a temporary mount while the event lives
    return h;
  };
  detail::add_perf_steps(steps, progs.tracepoint, no_prog, {}, event);
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> tracepoint(prober& p, const tracepoint_programs& progs, const tracepoint_target& t,
                                          const policy& pol = {}) {
  return tracepoint(decide::tracepoint(decide::from(p)), progs, t, pol);
}

}  // namespace bpfprobe::attach
