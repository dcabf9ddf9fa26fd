// Helpers given a map the kernel does not let them use (check_map_func_compatibility: "cannot pass
// map_type N into func X", EINVAL). Decided only where the pairing is certain: the helper takes
// the map in R1, and R1 at the call is the map from an ld_imm64 in the same straight-line code.
#pragma once

#include <bpf/libbpf.h>

#include <algorithm>
#include <bpfprobe/check/elf_image.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::objcheck {

// The symbol R1 surely holds at the helper call `call` of the function [begin, end): the last
// write of R1 before it is an ld_imm64 relocated against a symbol, and no jump lands in between.
// `targets[k - begin]` marks jump targets of the function.
inline std::optional<std::string> symbol_in_r1(const elf_image& img, const code_section& cs, std::size_t begin,
                                               std::size_t call, const std::vector<bool>& targets) {
  for (std::size_t k = call; k-- > begin;) {
    if (targets[k + 1 - begin]) return std::nullopt;
    const bpf_insn& in = cs.insns[k];
    if (k > begin && cs.insns[k - 1].code == (BPF_LD | BPF_IMM | BPF_DW) && in.code == 0) continue;  // 2nd half
    std::uint8_t cls = BPF_CLASS(in.code);
    if (in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.dst_reg == BPF_REG_1) {
      auto rel = cs.relocs.find(k);
      if (rel == cs.relocs.end() || in.src_reg != 0 || in.imm != 0) return std::nullopt;
      return img.symbols[rel->second].name;
    }
    bool writes_r1 = ((cls == BPF_LD || cls == BPF_LDX || cls == BPF_ALU || cls == BPF_ALU64) && in.dst_reg == 1) ||
                     (cls == BPF_JMP && BPF_OP(in.code) == BPF_CALL) ||
                     (cls == BPF_STX && BPF_MODE(in.code) == 0xc0 && in.src_reg == 1);
    if (writes_r1 || ((cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(in.code) == BPF_EXIT)) return std::nullopt;
  }
  return std::nullopt;
}

// Jump targets of the function [begin, end), as symbol_in_r1 wants them.
inline std::vector<bool> jump_targets(const code_section& cs, std::size_t begin, std::size_t end) {
  std::vector<bool> t(end - begin + 1);
  for (std::size_t k = begin; k < end; ++k) {
    const bpf_insn& in = cs.insns[k];
    if (in.code == (BPF_LD | BPF_IMM | BPF_DW)) {
      ++k;
      continue;
    }
    std::uint8_t cls = BPF_CLASS(in.code), op = BPF_OP(in.code);
    if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT) continue;
    std::int64_t to = static_cast<std::int64_t>(k) + 1 + (cls == BPF_JMP32 && op == BPF_JA ? in.imm : in.off);
    if (to >= static_cast<std::int64_t>(begin) && to <= static_cast<std::int64_t>(end)) t[to - begin] = true;
  }
  return t;
}

// Whether the kernel refuses `helper` with a map of type `type` in R1 (check_map_func_compatibility,
// unchanged for these pairs since each helper and map type came): a stack trace map takes only
// bpf_get_stackid, a perf event array only the perf helpers, a ring buffer only the ringbuf
// helpers, and the ringbuf helpers take only a ring buffer.
inline bool map_refused_in_r1(std::string_view helper, bpf_map_type type) {
  static constexpr std::string_view r1_map[] = {
      "bpf_map_lookup_elem", "bpf_map_update_elem",      "bpf_map_delete_elem",   "bpf_map_push_elem",
      "bpf_map_pop_elem",    "bpf_map_peek_elem",        "bpf_ringbuf_output",    "bpf_ringbuf_reserve",
      "bpf_ringbuf_query",   "bpf_redirect_map",         "bpf_for_each_map_elem", "bpf_map_lookup_percpu_elem",
      "bpf_perf_event_read", "bpf_perf_event_read_value"};
  if (std::find(std::begin(r1_map), std::end(r1_map), helper) == std::end(r1_map)) return false;
  bool ringbuf_helper = helper.starts_with("bpf_ringbuf_");
  switch (type) {
    case BPF_MAP_TYPE_STACK_TRACE: return true;
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY: return !helper.starts_with("bpf_perf_event_read");
    case BPF_MAP_TYPE_RINGBUF: return !ringbuf_helper;
    default: return ringbuf_helper;
  }
}

}  // namespace bpfprobe::objcheck
