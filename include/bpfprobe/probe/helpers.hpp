// Helper probes: "call <helper>; exit" loaded as each program type. The verifier checks the helper
// id and the program type's allow list before the arguments, so any rejection after the call line
// proves the helper is available (classify.hpp holds the wordings that prove it is not).
#pragma once

#include <bpfprobe/probe/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>

namespace bpfprobe::probe {

inline verdict probe_helper(const context& ctx, const load_setup& prog_setup, std::int32_t helper_id) {
  sys::prog_load_args args = prog_setup.args;
  const auto prog = insn::assemble(insn::call_helper(helper_id), insn::exit());
  args.insns = prog;
  auto fd = sys::prog_load(args);
  // The call line ends with "#<id>": reaching it means the checks before the call passed.
  return classify::from_result(fd, ctx.rules({.must_reach = "#" + std::to_string(helper_id)}), "loaded");
}

}  // namespace bpfprobe::probe
