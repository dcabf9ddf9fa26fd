// Program-type probes: load "return 0" of each type with its set-up (load_setup.hpp).
#pragma once

#include <bpfprobe/probe/facts.hpp>
#include <bpfprobe/probe/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>

namespace bpfprobe::probe {

inline verdict probe_prog_type(const context& ctx, std::string_view name, std::uint32_t value) {
  load_setup s = setup_for(ctx, name, value);
  static constexpr auto prog = insn::return_zero();
  s.args.insns = prog;
  auto fd = sys::prog_load(s.args);
  verdict v = classify::from_result(fd, ctx.rules(), "loaded");
  if (!s.note.empty()) v.evidence = v.evidence.empty() ? s.note : v.evidence + " [" + s.note + "]";
  if (!s.gap.empty() && !v.supported()) {
    v.reason += " (set-up incomplete: " + s.gap + ")";
    // The kernel rejected a request we could not complete: that says nothing about the type.
    v.state = status::unknown;
  }
  return v;
}

}  // namespace bpfprobe::probe
