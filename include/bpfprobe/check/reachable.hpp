// Which instructions of a function the verifier can reach. It walks only the branches it cannot
// prove dead, and after libbpf's CO-RE relocation a bpf_core_*_exists test is a constant
// (`r1 = 0/1; if r1 == 0 goto`), so the code behind a failed guard is never checked: a helper the
// kernel lacks or a poisoned field access there does not fail the load. This follows constants
// through registers only (moves and simple arithmetic, and loads from read-only data: `const
// volatile` globals as compiled, which libbpf freezes; any other load or a call makes a register
// unknown) and decides a conditional jump only on a known register against an immediate,
// which every verifier since 4.20 settles the same way. On anything it does not model it gives up
// and everything counts as reachable.
#pragma once

#include <array>
#include <bit>
#include <bpfprobe/check/core.hpp>
#include <bpfprobe/check/elf_image.hpp>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace bpfprobe::objcheck {

// Values libbpf writes into a section's instructions: instruction index -> value (nullopt: unknown).
using patched_values = std::map<std::size_t, std::optional<std::int64_t>>;

// The value a CO-RE relocation of an existence kind gives the instruction, when the resolver
// settles it; libbpf writes 0 when no candidate matches (no poisoning for these kinds).
inline std::optional<std::int64_t> core_constant(std::uint32_t kind, const core_outcome& o) {
  if (!o.decided) return std::nullopt;
  switch (kind) {
    case BPF_CORE_FIELD_EXISTS:
    case BPF_CORE_TYPE_EXISTS:
    case BPF_CORE_ENUMVAL_EXISTS: return o.resolved ? 1 : 0;
    case BPF_CORE_TYPE_MATCHES:
      return o.resolved ? std::nullopt : std::optional<std::int64_t>(0);  // a name is not a match
    default: return std::nullopt;
  }
}

// Per code section name, every instruction carrying a CO-RE relocation and its value after it.
inline std::map<std::string, patched_values, std::less<>> core_patches(const std::vector<core_relo>& relos,
                                                                       core_resolver& resolver) {
  std::map<std::string, patched_values, std::less<>> out;
  for (const auto& r : relos)
    out[r.section][r.insn_off / sizeof(bpf_insn)] = core_constant(r.kind, resolver.resolve(r));
  return out;
}

namespace detail {

// A known register: a number, or (rodata != 0) the address of byte v of read-only section rodata - 1.
struct known {
  std::uint64_t v = 0;
  std::size_t rodata = 0;
  bool operator==(const known&) const = default;
};
using reg_state = std::array<std::optional<known>, 11>;

// Whether the conditional jump `op` is taken for `a` (64-bit, or the low 32 bits for JMP32) against `b`.
inline std::optional<bool> jump_taken(std::uint8_t op, std::uint64_t a, std::uint64_t b, bool is32) {
  if (is32) {
    a = static_cast<std::uint32_t>(a);
    b = static_cast<std::uint32_t>(b);
  }
  std::int64_t sa = is32 ? static_cast<std::int32_t>(a) : static_cast<std::int64_t>(a);
  std::int64_t sb = is32 ? static_cast<std::int32_t>(b) : static_cast<std::int64_t>(b);
  switch (op) {
    case BPF_JEQ: return a == b;
    case BPF_JNE: return a != b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    case BPF_JSET: return (a & b) != 0;
    case BPF_JSGT: return sa > sb;
    case BPF_JSGE: return sa >= sb;
    case BPF_JSLT: return sa < sb;
    case BPF_JSLE: return sa <= sb;
    default: return std::nullopt;
  }
}

inline std::optional<std::uint64_t> alu(std::uint8_t op, std::uint64_t a, std::uint64_t b, bool is32) {
  unsigned width = is32 ? 32 : 64;
  std::uint64_t r;
  switch (op) {
    case BPF_ADD: r = a + b; break;
    case BPF_SUB: r = a - b; break;
    case BPF_MUL: r = a * b; break;
    case BPF_AND: r = a & b; break;
    case BPF_OR: r = a | b; break;
    case BPF_XOR: r = a ^ b; break;
    case BPF_LSH:
      if (b >= width) return std::nullopt;
      r = a << b;
      break;
    case BPF_RSH:
      if (b >= width) return std::nullopt;
      r = (is32 ? static_cast<std::uint32_t>(a) : a) >> b;
      break;
    case BPF_ARSH:
      if (b >= width) return std::nullopt;
      r = is32 ? static_cast<std::uint32_t>(static_cast<std::int32_t>(a) >> b)
               : static_cast<std::uint64_t>(static_cast<std::int64_t>(a) >> b);
      break;
    default: return std::nullopt;
  }
  return is32 ? static_cast<std::uint32_t>(r) : r;
}

}  // namespace detail

// reachable[i - begin] for the function [begin, end) of `cs` entered at `begin` with nothing known;
// an empty vector when the analysis gave up (take everything as reachable).
inline std::vector<bool> reachable_insns(const elf_image& img, const code_section& cs, std::size_t begin,
                                         std::size_t end, const patched_values* patched) {
  using detail::known;
  using detail::reg_state;
  if (begin >= end || end > cs.insns.size()) return {};
  std::size_t n = end - begin;
  std::vector<std::optional<reg_state>> in(n);
  std::vector<std::size_t> work;
  bool failed = false;
  auto flow = [&](std::size_t to, const reg_state& s) {
    if (to < begin || to >= end) {
      failed = true;
      return;
    }
    auto& cur = in[to - begin];
    if (!cur) {
      cur = s;
      work.push_back(to);
      return;
    }
    bool changed = false;
    for (std::size_t r = 0; r < s.size(); ++r)
      if ((*cur)[r] && (*cur)[r] != s[r]) {
        (*cur)[r].reset();
        changed = true;
      }
    if (changed) work.push_back(to);
  };
  auto patched_at = [&](std::size_t i) -> const std::optional<std::int64_t>* {
    if (!patched) return nullptr;
    auto p = patched->find(i);
    return p == patched->end() ? nullptr : &p->second;
  };
  auto number = [](std::optional<std::uint64_t> v) { return v ? std::optional<known>(known{*v}) : std::nullopt; };
  flow(begin, reg_state{});
  while (!work.empty() && !failed) {
    std::size_t i = work.back();
    work.pop_back();
    reg_state s = *in[i - begin];
    const bpf_insn& insn = cs.insns[i];
    std::uint8_t cls = BPF_CLASS(insn.code), op = BPF_OP(insn.code);
    if (insn.dst_reg > 10 || insn.src_reg > 10) return {};
    auto& dst = s[insn.dst_reg];
    switch (cls) {
      case BPF_LD:
        if (insn.code == (BPF_LD | BPF_IMM | BPF_DW)) {
          if (i + 1 >= end) return {};
          auto rel = cs.relocs.find(i);
          const auto* sym = rel != cs.relocs.end() ? &img.symbols[rel->second] : nullptr;
          if (const auto* p = patched_at(i))
            dst = *p ? std::optional<known>(known{static_cast<std::uint64_t>(**p)}) : std::nullopt;
          else if (insn.src_reg == 0 && !sym)
            dst = known{static_cast<std::uint32_t>(insn.imm) |
                        (static_cast<std::uint64_t>(static_cast<std::uint32_t>(cs.insns[i + 1].imm)) << 32)};
          else if (insn.src_reg == 0 && sym && img.rodata.contains(sym->section))
            dst = known{sym->value + static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)), sym->section + 1};
          else
            dst.reset();
          flow(i + 2, s);
        } else {  // legacy packet loads: r0 and the argument registers
          for (int r = 0; r <= 5; ++r) s[r].reset();
          flow(i + 1, s);
        }
        break;
      case BPF_LDX: {
        // A plain load from read-only data at a known offset: the verifier reads the frozen map (5.2).
        const auto src = s[insn.src_reg];
        std::size_t size = 0;
        switch (BPF_SIZE(insn.code)) {
          case BPF_B: size = 1; break;
          case BPF_H: size = 2; break;
          case BPF_W: size = 4; break;
          case BPF_DW: size = 8; break;
        }
        dst.reset();
        if (BPF_MODE(insn.code) == BPF_MEM && src && src->rodata) {
          const auto& data = img.rodata.at(src->rodata - 1);
          std::uint64_t off = src->v + static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.off));
          if (off < data.size() && size <= data.size() - off) {
            std::uint64_t x = 0;  // the object's byte order is the kernel's, so the host's
            std::memcpy(reinterpret_cast<char*>(&x) + (std::endian::native == std::endian::big ? 8 - size : 0),
                        data.data() + off, size);
            dst = known{x};
          }
        }
        flow(i + 1, s);
        break;
      }
      case BPF_ST: flow(i + 1, s); break;
      case BPF_STX:
        if (BPF_MODE(insn.code) == 0xc0) {  // atomics may write the source register or r0
          s[insn.src_reg].reset();
          s[0].reset();
        }
        flow(i + 1, s);
        break;
      case BPF_ALU:
      case BPF_ALU64: {
        bool is32 = cls == BPF_ALU;
        std::optional<known> b =
            BPF_SRC(insn.code) == BPF_K
                ? std::optional<known>(known{static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))})
                : s[insn.src_reg];
        if (const auto* p = patched_at(i)) {  // libbpf's value, written into a move of an immediate only
          dst = *p && op == BPF_MOV && BPF_SRC(insn.code) == BPF_K && insn.off == 0
                    ? std::optional<known>(
                          known{is32 ? static_cast<std::uint32_t>(**p) : static_cast<std::uint64_t>(**p)})
                    : std::nullopt;
        } else if (insn.off != 0 || !b) {
          dst.reset();
        } else if (op == BPF_MOV) {
          dst = !is32 ? b : b->rodata ? std::nullopt : std::optional<known>(known{static_cast<std::uint32_t>(b->v)});
        } else if (dst && dst->rodata && !b->rodata && !is32 && (op == BPF_ADD || op == BPF_SUB)) {
          dst->v = op == BPF_ADD ? dst->v + b->v : dst->v - b->v;  // moving within read-only data
        } else {
          dst = dst && !dst->rodata && !b->rodata ? number(detail::alu(op, dst->v, b->v, is32)) : std::nullopt;
        }
        flow(i + 1, s);
        break;
      }
      case BPF_JMP:
      case BPF_JMP32: {
        bool is32 = cls == BPF_JMP32;
        if (op == BPF_EXIT && !is32) break;
        if (op == BPF_CALL && !is32) {
          for (int r = 0; r <= 5; ++r) s[r].reset();
          flow(i + 1, s);
          break;
        }
        if (op == BPF_JA) {
          flow(i + 1 + (is32 ? insn.imm : insn.off), s);
          break;
        }
        if (op == 0xe0 && !is32) {  // may_goto: either way
          flow(i + 1, s);
          flow(i + 1 + insn.off, s);
          break;
        }
        std::optional<bool> taken;
        if (BPF_SRC(insn.code) == BPF_K && dst && !dst->rodata)
          taken = detail::jump_taken(op, dst->v, static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)), is32);
        else if (!detail::jump_taken(op, 0, 0, is32))
          return {};  // an opcode this does not know
        if (!taken || !*taken) flow(i + 1, s);
        if (!taken || *taken) flow(i + 1 + insn.off, s);
        break;
      }
      default: return {};
    }
  }
  if (failed) return {};
  std::vector<bool> out(n);
  for (std::size_t k = 0; k < n; ++k) out[k] = in[k].has_value();
  // The second half of a reachable ld_imm64 belongs to it.
  for (std::size_t k = 0; k + 1 < n; ++k)
    if (out[k] && cs.insns[begin + k].code == (BPF_LD | BPF_IMM | BPF_DW)) out[k + 1] = true;
  return out;
}

}  // namespace bpfprobe::objcheck
