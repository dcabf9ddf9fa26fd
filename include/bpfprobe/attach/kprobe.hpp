// kprobe/kretprobe on a kernel function: fentry/fexit (trampoline) -> kprobe_multi link -> perf
// event (kprobe PMU or tracefs kprobe_events) with a perf_event link -> PERF_EVENT_IOC_SET_BPF.
// Each path needs its own program flavour, so the caller passes the programs it has; paths whose
// program is missing are skipped (and say so in attempts()).
#pragma once

#include <bpfprobe/attach/perf.hpp>
#include <bpfprobe/probe/classify.hpp>

namespace bpfprobe::attach {

struct kprobe_programs {
  int fentry = -1;  // BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY (FEXIT for a kretprobe), attach_btf_id = the function
  int kprobe_multi = -1;  // BPF_PROG_TYPE_KPROBE loaded with expected_attach_type BPF_TRACE_KPROBE_MULTI
  int kprobe = -1;        // BPF_PROG_TYPE_KPROBE (perf_link, perf_ioctl)
};

struct kprobe_target {
  std::string function;
  std::uint64_t offset = 0;  // into the function; only the perf paths take one
  bool retprobe = false;
};

inline sys::result<attachment> kprobe(const decide::choice& c, const kprobe_programs& progs, const kprobe_target& t,
                                      const policy& pol = {}) {
  const std::string source = detail::pick_source(c, pol.events);
  const std::string no_prog = "no program of this flavour given";
  std::vector<step> steps;
  // fentry/fexit. ENOTSUPP (524): no trampoline on this arch/JIT; EINVAL: older kernel.
  steps.push_back({std::string(t.retprobe ? decide::path::fexit : decide::path::fentry),
                   progs.fentry < 0 ? no_prog : (t.offset ? "an offset needs a kprobe" : std::string()), true,
                   classify::not_supported_here, [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::raw_tracepoint_open(progs.fentry);
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  // kprobe_multi. EOPNOTSUPP: no fprobe; EINVAL: before 5.18; ENOENT/ESRCH: the function is not
  // traceable by ftrace (a kprobe may still reach it).
  steps.push_back(
      {std::string(decide::path::kprobe_multi),
       progs.kprobe_multi < 0 ? no_prog : (t.offset ? "kprobe_multi takes no offset" : std::string()), true,
       classify::not_supported_here_and({ENOENT, ESRCH}),
       [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
         const char* syms[] = {t.function.c_str()};
         auto link = sys::link_create(
             {.prog_fd = progs.kprobe_multi,
              .attach_type = BPF_TRACE_KPROBE_MULTI,
              .part = sys::link_parts::kprobe_multi{
                  .flags = t.retprobe ? static_cast<std::uint32_t>(BPF_F_KPROBE_MULTI_RETURN) : 0u, .syms = syms}});
         if (!link) return link.error();
         return std::make_unique<detail::link_hold>(std::move(link).value());
       }});
  char off[32] = "";
  if (t.offset) std::snprintf(off, sizeof(off), "+%llu", static_cast<unsigned long long>(t.offset));
  detail::add_probe_steps(
      steps, progs.kprobe, no_prog, pol, source,
      {sys::tracefs_probe_event::kind::kprobe, t.function + off, t.function, t.offset, t.retprobe, -1});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> kprobe(prober& p, const kprobe_programs& progs, const kprobe_target& t,
                                      const policy& pol = {}) {
  return kprobe(decide::kprobe(decide::from(p), t.retprobe), progs, t, pol);
}

}  // namespace bpfprobe::attach
