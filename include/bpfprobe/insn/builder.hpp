// A growable program for probes whose instructions depend on run-time values (BTF ids, map fds,
// optional parts). Fixed programs use insn::assemble instead.
#pragma once

#include <bpfprobe/insn/insn.hpp>
#include <cstddef>
#include <span>
#include <vector>

namespace bpfprobe::insn {

class builder {
 public:
  builder& operator()(const bpf_insn& i) {
    insns_.push_back(i);
    return *this;
  }
  template <std::size_t N>
  builder& operator()(const std::array<bpf_insn, N>& xs) {
    insns_.insert(insns_.end(), xs.begin(), xs.end());
    return *this;
  }
  builder& operator()(std::span<const bpf_insn> xs) {
    insns_.insert(insns_.end(), xs.begin(), xs.end());
    return *this;
  }
  // dst = r10 + off: the address of a stack slot.
  builder& stack_addr(reg dst, std::int16_t off) {
    (*this)(mov64_reg(dst, r10));
    return (*this)(alu64_imm(BPF_ADD, dst, off));
  }
  // Index the next instruction will have.
  [[nodiscard]] std::size_t here() const noexcept { return insns_.size(); }
  [[nodiscard]] std::span<const bpf_insn> insns() const noexcept { return insns_; }
  bpf_insn& operator[](std::size_t i) { return insns_[i]; }

 private:
  std::vector<bpf_insn> insns_;
};

// ld_imm64 of a BPF subprogram's address (BPF_PSEUDO_FUNC, 5.13): `delta` = target - (index + 1).
constexpr std::array<bpf_insn, 2> ld_func(reg dst, std::int32_t delta) { return ld_imm64(dst, BPF_PSEUDO_FUNC, delta); }

}  // namespace bpfprobe::insn
