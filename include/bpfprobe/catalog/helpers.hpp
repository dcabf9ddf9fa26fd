// Helper probes: "call <helper>; exit" loaded as each program type. The verifier checks the helper
// id and the program type's allow list before the arguments, so any rejection after the call line
// proves the helper is available (classify.hpp holds the wordings that prove it is not).
#pragma once

#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>

namespace bpfprobe::probe {

// The set-up helper probes use for a program type: setup_for(), except for tracing when fentry
// programs cannot be loaded at all (EPERM under lockdown) while tp_btf programs can. Then the helpers
// are probed as tp_btf (BPF_TRACE_RAW_TP on a btf_trace_* typedef), and `instead_of` says why.
inline load_setup helper_setup(const context& ctx, std::string_view type_name, std::uint32_t value) {
  load_setup s = setup_for(ctx, type_name, value);
  if (type_name != "tracing") return s;
  static constexpr auto ret0 = insn::return_zero();
  sys::prog_load_args args = s.args;
  args.insns = ret0;
  auto fentry = sys::prog_load(args);
  if (fentry) return s;
  verdict refused = classify::from_error(fentry.error(), load_rules(ctx, type_name));
  if (refused.state != status::unknown) return s;
  auto target = first_tp_btf_target(ctx);
  if (!target) return s;
  load_setup t;
  t.args.type = value;
  t.args.expected_attach_type = BPF_TRACE_RAW_TP;
  t.args.attach_btf_id = target->second;
  args = t.args;
  args.insns = ret0;
  if (!sys::prog_load(args)) return s;
  t.note = "probed as tp_btf " + target->first + ": fentry programs are refused here";
  t.instead_of = refused.reason;
  t.instead_of_err = refused.err;
  return t;
}

// Helpers the kernel offers to tracing programs only with a trampoline (fentry/fexit/fmod_ret) or,
// from later kernels, also to tp_btf: bpf_tracing_func_proto / tracing_prog_func_proto in
// kernel/trace/bpf_trace.c (get_func_arg/_ret/_arg_cnt 5.17, get_attach_cookie for tracing 5.19).
// A tp_btf probe that is refused them says nothing about fentry.
inline bool trampoline_only_helper(std::int32_t id) {
  return id == BPF_FUNC_get_func_arg || id == BPF_FUNC_get_func_ret || id == BPF_FUNC_get_func_arg_cnt ||
         id == BPF_FUNC_get_attach_cookie;
}

inline verdict probe_helper(const context& ctx, const load_setup& prog_setup, std::int32_t helper_id) {
  sys::prog_load_args args = prog_setup.args;
  const auto prog = insn::assemble(insn::call_helper(helper_id), insn::exit());
  args.insns = prog;
  auto fd = sys::prog_load(args);
  // The call line ends with "#<id>": reaching it means the checks before the call passed.
  verdict v = classify::from_result(fd, ctx.rules({.must_reach = "#" + std::to_string(helper_id)}), "loaded");
  if (prog_setup.instead_of.empty()) return v;
  if (v.state == status::unsupported && trampoline_only_helper(helper_id)) {
    // Unknown because fentry was refused: that refusal's errno decides it (an EPERM the cache keeps).
    v.state = status::unknown;
    v.err = prog_setup.instead_of_err;
    v.reason =
        "not for tp_btf programs (" + v.reason +
        "); the kernel may offer it to fentry/fexit programs, which cannot be loaded here: " + prog_setup.instead_of;
  }
  v.evidence = v.evidence.empty() ? prog_setup.note : v.evidence + " [" + prog_setup.note + "]";
  return v;
}

}  // namespace bpfprobe::probe
