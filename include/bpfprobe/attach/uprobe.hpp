// uprobe/uretprobe on code in a file: uprobe_multi link (6.6) -> perf event (uprobe PMU or tracefs
// uprobe_events) with a perf_event link -> PERF_EVENT_IOC_SET_BPF.
#pragma once

#include <bpfprobe/attach/perf.hpp>
#include <bpfprobe/probe/classify.hpp>

namespace bpfprobe::attach {

struct uprobe_programs {
  int uprobe_multi = -1;  // BPF_PROG_TYPE_KPROBE loaded with expected_attach_type BPF_TRACE_UPROBE_MULTI
  int uprobe = -1;        // BPF_PROG_TYPE_KPROBE (perf_link, perf_ioctl)
};

struct uprobe_target {
  std::string path;          // the ELF file (executable or shared library)
  std::uint64_t offset = 0;  // file offset of the instruction (see sys::locate_code for our own code)
  pid_t pid = -1;            // -1: every process that maps the file
  bool retprobe = false;

  // The uprobe target for a function of this process (e.g. to trace ourselves).
  static sys::result<uprobe_target> of(const void* code, bool retprobe = false) {
    auto where = sys::locate_code(code);
    if (!where) return where.error();
    return uprobe_target{where.value().path, where.value().offset, -1, retprobe};
  }
};

inline sys::result<attachment> uprobe(const decide::choice& c, const uprobe_programs& progs, const uprobe_target& t,
                                      const policy& pol = {}) {
  const std::string source = detail::pick_source(c, pol.events);
  const std::string no_prog = "no program of this flavour given";
  std::vector<step> steps;
  // uprobe_multi. EINVAL: before 6.6; EOPNOTSUPP: no CONFIG_UPROBES.
  steps.push_back({std::string(decide::path::uprobe_multi), progs.uprobe_multi < 0 ? no_prog : std::string(), true,
                   classify::not_supported_here, [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     std::uint64_t offsets[] = {t.offset};
                     auto link = sys::link_create(
                         {.prog_fd = progs.uprobe_multi,
                          .attach_type = BPF_TRACE_UPROBE_MULTI,
                          .part = sys::link_parts::uprobe_multi{
                              .path = t.path.c_str(),
                              .offsets = offsets,
                              .flags = t.retprobe ? static_cast<std::uint32_t>(BPF_F_UPROBE_MULTI_RETURN) : 0u,
                              .pid = t.pid > 0 ? static_cast<std::uint32_t>(t.pid) : 0u}});
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  char off[32];
  std::snprintf(off, sizeof(off), ":0x%llx", static_cast<unsigned long long>(t.offset));
  detail::add_probe_steps(steps, progs.uprobe, no_prog, pol, source,
                          {sys::tracefs_probe_event::kind::uprobe, t.path + off, t.path, t.offset, t.retprobe, t.pid});
  return carry_out(c, pol, std::move(steps));
}

inline sys::result<attachment> uprobe(prober& p, const uprobe_programs& progs, const uprobe_target& t,
                                      const policy& pol = {}) {
  return uprobe(decide::uprobe(decide::from(p), t.retprobe), progs, t, pol);
}

}  // namespace bpfprobe::attach
