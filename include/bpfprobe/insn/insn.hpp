// constexpr builders for the tiny programs probes load. Names follow the instruction they emit.
#pragma once

#include <linux/bpf.h>

#include <array>
#include <cstdint>

namespace bpfprobe::insn {

using reg = std::uint8_t;
inline constexpr reg r0 = 0, r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r6 = 6, r7 = 7, r8 = 8, r9 = 9, r10 = 10;

constexpr bpf_insn raw(std::uint8_t code, reg dst, reg src, std::int16_t off, std::int32_t imm) {
  return bpf_insn{code, static_cast<std::uint8_t>(dst & 0xf), static_cast<std::uint8_t>(src & 0xf), off, imm};
}

constexpr bpf_insn mov64_imm(reg dst, std::int32_t imm) { return raw(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn mov64_reg(reg dst, reg src) { return raw(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn mov32_imm(reg dst, std::int32_t imm) { return raw(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn alu64_imm(std::uint8_t op, reg dst, std::int32_t imm) {
  return raw(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn alu64_reg(std::uint8_t op, reg dst, reg src) { return raw(BPF_ALU64 | op | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn alu32_imm(std::uint8_t op, reg dst, std::int32_t imm) {
  return raw(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn exit() { return raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
constexpr bpf_insn call_helper(std::int32_t id) { return raw(BPF_JMP | BPF_CALL, 0, 0, 0, id); }
// Call a kernel function by BTF id; `btf_fd_index` selects module BTF through fd_array (0 = vmlinux).
constexpr bpf_insn call_kfunc(std::int32_t btf_id, std::int16_t btf_fd_index = 0) {
  return raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, btf_fd_index, btf_id);
}
// Call a BPF subprogram `off` instructions after the next one.
constexpr bpf_insn call_subprog(std::int32_t off) { return raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, off); }
constexpr bpf_insn ja(std::int16_t off) { return raw(BPF_JMP | BPF_JA, 0, 0, off, 0); }
constexpr bpf_insn jmp_imm(std::uint8_t op, reg dst, std::int32_t imm, std::int16_t off) {
  return raw(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
constexpr bpf_insn jmp32_imm(std::uint8_t op, reg dst, std::int32_t imm, std::int16_t off) {
  return raw(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
}
constexpr bpf_insn ldx_mem(std::uint8_t size, reg dst, reg src, std::int16_t off) {
  return raw(BPF_LDX | size | BPF_MEM, dst, src, off, 0);
}
constexpr bpf_insn stx_mem(std::uint8_t size, reg dst, reg src, std::int16_t off) {
  return raw(BPF_STX | size | BPF_MEM, dst, src, off, 0);
}
constexpr bpf_insn st_mem(std::uint8_t size, reg dst, std::int16_t off, std::int32_t imm) {
  return raw(BPF_ST | size | BPF_MEM, dst, 0, off, imm);
}

// Two-slot 64-bit immediate load; `src` selects a pseudo kind (map fd, map value, BTF id, ...).
constexpr std::array<bpf_insn, 2> ld_imm64(reg dst, std::uint8_t src, std::int32_t lo, std::int32_t hi = 0) {
  return {raw(BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, lo), raw(0, 0, 0, 0, hi)};
}
constexpr std::array<bpf_insn, 2> ld_map_fd(reg dst, int map_fd) { return ld_imm64(dst, BPF_PSEUDO_MAP_FD, map_fd); }
// Address of the map's value at `offset` (global data, BPF_PSEUDO_MAP_VALUE).
constexpr std::array<bpf_insn, 2> ld_map_value(reg dst, int map_fd, std::int32_t offset) {
  return ld_imm64(dst, BPF_PSEUDO_MAP_VALUE, map_fd, offset);
}

// A fixed-size program assembled from single instructions and ld_imm64 pairs.
template <std::size_t N>
struct program {
  std::array<bpf_insn, N> insns{};
  constexpr const bpf_insn* data() const { return insns.data(); }
  constexpr std::size_t size() const { return N; }
};

namespace detail {
constexpr std::size_t count(const bpf_insn&) { return 1; }
template <std::size_t M>
constexpr std::size_t count(const std::array<bpf_insn, M>&) {
  return M;
}
template <class Out>
constexpr void put(Out& out, std::size_t& i, const bpf_insn& x) {
  out[i++] = x;
}
template <class Out, std::size_t M>
constexpr void put(Out& out, std::size_t& i, const std::array<bpf_insn, M>& xs) {
  for (const auto& x : xs) out[i++] = x;
}
}  // namespace detail

// assemble(mov64_imm(r0, 0), exit()) -> std::array<bpf_insn, 2>
template <class... Parts>
constexpr auto assemble(const Parts&... parts) {
  constexpr std::size_t n = (detail::count(Parts{}) + ...);
  std::array<bpf_insn, n> out{};
  std::size_t i = 0;
  (detail::put(out, i, parts), ...);
  return out;
}

// "return 0" — the smallest valid program.
constexpr auto return_zero() { return assemble(mov64_imm(r0, 0), exit()); }

}  // namespace bpfprobe::insn
