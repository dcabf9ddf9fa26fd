// Program-type probes: load "return 0" of each type with its set-up (load_setup.hpp).
#pragma once

#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>

namespace bpfprobe::probe {

// tp_btf (BPF_TRACE_RAW_TP) is the first attach type of BPF_PROG_TYPE_TRACING (f1b9509c2fb0, 5.5). It
// needs no trampoline, so it loads where fentry/fexit are refused (EPERM without a log under some
// LSM policies): then the type is known to exist although fentry could not show it.
inline verdict tracing_as_tp_btf(const context& ctx, std::uint32_t value) {
  if (!ctx.kernel_btf()) return verdict::unknown("no kernel BTF for a tp_btf target");
  auto target = first_tp_btf_target(ctx);
  if (!target) return verdict::unknown("no btf_trace_* typedef in kernel BTF for a tp_btf target");
  static constexpr auto prog = insn::return_zero();
  auto fd = sys::prog_load(
      {.type = value, .insns = prog, .expected_attach_type = BPF_TRACE_RAW_TP, .attach_btf_id = target->second});
  verdict v = classify::from_result(fd, load_rules(ctx, "tracing"), "loaded as tp_btf");
  std::string tp = "btf_trace_" + target->first;
  v.evidence = v.evidence.empty() ? "tp_btf " + tp : v.evidence + " [tp_btf " + tp + "]";
  return v;
}

inline verdict probe_prog_type(const context& ctx, std::string_view name, std::uint32_t value) {
  load_setup s = setup_for(ctx, name, value);
  static constexpr auto prog = insn::return_zero();
  s.args.insns = prog;
  auto fd = sys::prog_load(s.args);
  verdict v = classify::from_result(fd, load_rules(ctx, name), "loaded");
  if (!s.note.empty()) v.evidence = v.evidence.empty() ? s.note : v.evidence + " [" + s.note + "]";
  if (!s.gap.empty() && !v.supported()) {
    v.reason += " (set-up incomplete: " + s.gap + ")";
    // The kernel rejected a request we could not complete: that says nothing about the type.
    v.state = status::unknown;
  }
  if (name == "tracing" && v.state == status::unknown) {
    verdict tp = tracing_as_tp_btf(ctx, value);
    if (tp.supported()) {
      tp.reason = "loaded as tp_btf; fentry: " + v.reason;
      return tp;
    }
  }
  return v;
}

}  // namespace bpfprobe::probe
