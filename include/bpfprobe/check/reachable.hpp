// Which instructions of a function the verifier can reach. It walks only the branches it cannot
// prove dead, and after libbpf's CO-RE relocation a bpf_core_*_exists test is a constant
// (`r1 = 0/1; if r1 == 0 goto`), so the code behind a failed guard is never checked: a helper the
// kernel lacks or a poisoned field access there does not fail the load. This follows constants
// through registers and 8-byte stack spills (moves and simple arithmetic, and loads from
// read-only data: `const volatile` globals as compiled, and .kconfig values, which libbpf writes
// into frozen maps; also the 0 libbpf writes for a weak ksym the kernel lacks) and decides a
// conditional jump on known values, which every verifier since 4.20 settles the same way.
// A value the verifier may know but the scan does not (an unresolved relocation, a subprogram's
// result or arguments, a clobbered spill) is "unsure": code past a branch on it is reached only
// unsurely. A value from the program's run-time state (context, maps, helpers) is just unknown:
// the verifier walks both ways too. On anything it does not model it gives up.
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

// What libbpf writes for the externs a program loads (ld_imm64 of an undefined symbol), as far
// as the verifier sees it as a constant: a number (a weak ksym or kfunc the kernel lacks: 0), or
// the bytes of the extern in a frozen map (.kconfig). An extern in neither is not followed.
struct extern_values {
  std::map<std::string, std::uint64_t, std::less<>> numbers;
  std::map<std::string, std::vector<char>, std::less<>> data;
};

// How the verifier reaches an instruction: not at all, only past a branch on a value the scan
// cannot follow but the verifier may know (an unresolved guard), or surely.
enum class reach : std::uint8_t { dead, unsure, sure };

namespace detail {

// A known register: a number, or (mem) the address of byte v of read-only bytes the verifier knows.
struct known {
  std::uint64_t v = 0;
  const std::vector<char>* mem = nullptr;
  bool operator==(const known&) const = default;
};
// A register or spilled stack slot: known, or not; `unsure` when its value may be a constant the
// verifier knows and the scan does not (an unresolved relocation, a guard spilled and merged).
struct value {
  std::optional<known> k;
  bool unsure = false;
  bool operator==(const value&) const = default;
};
struct reg_state {
  std::array<value, 11> regs;
  std::map<std::int16_t, value> stack;  // 8-byte spills at r10 + offset
  bool sure = true;                     // reached past decided branches only
};

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

// The reach of each instruction of the function [begin, end) of `cs`, entered at `begin` with
// nothing known (a subprogram's arguments may be its caller's constants: unsure); an empty vector
// when the analysis gave up (take everything as reachable, and unsure).
inline std::vector<reach> reachable_insns(const elf_image& img, const code_section& cs, std::size_t begin,
                                          std::size_t end, const patched_values* patched,
                                          const extern_values* externs = nullptr, bool subprogram = false) {
  using detail::known;
  using detail::reg_state;
  using detail::value;
  if (begin >= end || end > cs.insns.size()) return {};
  std::size_t n = end - begin;
  std::vector<std::optional<reg_state>> in(n);
  std::vector<std::size_t> work;
  bool failed = false;
  // Where paths join, a value that differs is unknown; and unsure unless both paths are sure (the
  // verifier walks the paths apart, so a constant from an unsure path may still decide a branch).
  auto join = [](value& cur, const value& in_v, bool both_sure) {
    value out = cur;
    if (out.k != in_v.k) {
      out.k.reset();
      if (!both_sure) out.unsure = true;
    }
    out.unsure |= in_v.unsure;
    bool changed = out != cur;
    cur = out;
    return changed;
  };
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
    bool both = cur->sure && s.sure;
    bool changed = false;
    for (std::size_t r = 0; r < s.regs.size(); ++r) changed |= join(cur->regs[r], s.regs[r], both);
    for (auto& [off, v] : cur->stack) {  // a slot one side lacks holds a runtime value there
      auto o = s.stack.find(off);
      changed |= join(v, o == s.stack.end() ? value{} : o->second, both);
    }
    for (const auto& [off, v] : s.stack)
      if (!cur->stack.contains(off)) {
        value x;
        join(x, v, both);
        cur->stack.emplace(off, x);
        changed = true;
      }
    std::erase_if(cur->stack, [](const auto& slot) { return slot.second == value{}; });
    if (s.sure && !cur->sure) {
      cur->sure = true;
      changed = true;
    }
    if (changed) work.push_back(to);
  };
  auto patched_at = [&](std::size_t i) -> const std::optional<std::int64_t>* {
    if (!patched) return nullptr;
    auto p = patched->find(i);
    return p == patched->end() ? nullptr : &p->second;
  };
  auto number = [](std::optional<std::uint64_t> v) { return v ? value{known{*v}} : value{{}, true}; };
  const value unsure{{}, true};
  // A store the scan cannot place (through a pointer that may point into the stack, a helper
  // given a stack buffer): every spilled value may have changed.
  auto clobber_stack = [&](reg_state& s) {
    for (auto& [off, v] : s.stack) v = unsure;
  };
  auto clobber_slots = [&](reg_state& s, std::int16_t off, std::size_t size) {
    for (auto& [o, v] : s.stack)
      if (o < off + static_cast<std::int64_t>(size) && off < o + 8) v = unsure;
  };
  reg_state start;
  if (subprogram)
    for (int r = 1; r <= 5; ++r) start.regs[r] = unsure;
  flow(begin, start);
  while (!work.empty() && !failed) {
    std::size_t i = work.back();
    work.pop_back();
    reg_state s = *in[i - begin];
    const bpf_insn& insn = cs.insns[i];
    std::uint8_t cls = BPF_CLASS(insn.code), op = BPF_OP(insn.code);
    if (insn.dst_reg > 10 || insn.src_reg > 10) return {};
    auto& dst = s.regs[insn.dst_reg];
    std::size_t size = 0;
    switch (BPF_SIZE(insn.code)) {
      case BPF_B: size = 1; break;
      case BPF_H: size = 2; break;
      case BPF_W: size = 4; break;
      case BPF_DW: size = 8; break;
    }
    switch (cls) {
      case BPF_LD:
        if (insn.code == (BPF_LD | BPF_IMM | BPF_DW)) {
          if (i + 1 >= end) return {};
          auto rel = cs.relocs.find(i);
          const auto* sym = rel != cs.relocs.end() ? &img.symbols[rel->second] : nullptr;
          auto addend = static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm));
          if (const auto* p = patched_at(i)) {
            dst = *p ? value{known{static_cast<std::uint64_t>(**p)}} : unsure;
          } else if (insn.src_reg == 0 && !sym) {
            dst = value{known{static_cast<std::uint32_t>(insn.imm) |
                              (static_cast<std::uint64_t>(static_cast<std::uint32_t>(cs.insns[i + 1].imm)) << 32)}};
          } else if (insn.src_reg == 0 && sym && img.rodata.contains(sym->section)) {
            dst = value{known{sym->value + addend, &img.rodata.at(sym->section)}};
          } else if (insn.src_reg == 0 && sym && sym->section == SHN_UNDEF) {
            // An extern: the value libbpf writes, else one the verifier may know and the scan does not.
            dst = unsure;
            if (externs) {
              if (auto num = externs->numbers.find(sym->name); num != externs->numbers.end())
                dst = value{known{num->second}};
              else if (auto mem = externs->data.find(sym->name); mem != externs->data.end())
                dst = value{known{addend, &mem->second}};
            }
          } else {
            dst = value{};  // a map or writable data: its contents are the program's run-time state
          }
          flow(i + 2, s);
        } else {  // legacy packet loads: r0 and the argument registers
          for (int r = 0; r <= 5; ++r) s.regs[r] = value{};
          flow(i + 1, s);
        }
        break;
      case BPF_LDX: {
        // A plain load from read-only data at a known offset: the verifier reads the frozen map
        // (5.2); a load of a spilled register gets it back.
        const value src = s.regs[insn.src_reg];
        value out;
        if (src.k && src.k->mem) {
          const auto& data = *src.k->mem;
          std::uint64_t off = src.k->v + static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.off));
          out = unsure;
          if (BPF_MODE(insn.code) == BPF_MEM && off < data.size() && size <= data.size() - off) {
            std::uint64_t x = 0;  // the object's byte order is the kernel's, so the host's
            std::memcpy(reinterpret_cast<char*>(&x) + (std::endian::native == std::endian::big ? 8 - size : 0),
                        data.data() + off, size);
            out = value{known{x}};
          }
        } else if (insn.src_reg == BPF_REG_10) {
          auto slot = s.stack.find(insn.off);
          if (slot != s.stack.end() && size == 8 && BPF_MODE(insn.code) == BPF_MEM)
            out = slot->second;
          else
            for (const auto& [o, v] : s.stack)
              if (o < insn.off + static_cast<std::int64_t>(size) && insn.off < o + 8) out = unsure;
        } else if (src.unsure) {
          out = unsure;
        }
        dst = out;
        flow(i + 1, s);
        break;
      }
      case BPF_ST:
        if (insn.dst_reg == BPF_REG_10) {
          clobber_slots(s, insn.off, size);
          if (size == 8 && BPF_MODE(insn.code) == BPF_MEM)
            s.stack[insn.off] = value{known{static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))}};
        } else {
          clobber_stack(s);
        }
        std::erase_if(s.stack, [](const auto& slot) { return slot.second == value{}; });
        flow(i + 1, s);
        break;
      case BPF_STX:
        if (BPF_MODE(insn.code) == 0xc0) {  // atomics may write the source register or r0
          s.regs[insn.src_reg] = value{};
          s.regs[0] = value{};
        }
        if (insn.dst_reg == BPF_REG_10) {
          clobber_slots(s, insn.off, size);
          if (size == 8 && BPF_MODE(insn.code) == BPF_MEM) s.stack[insn.off] = s.regs[insn.src_reg];
        } else {
          clobber_stack(s);
        }
        std::erase_if(s.stack, [](const auto& slot) { return slot.second == value{}; });
        flow(i + 1, s);
        break;
      case BPF_ALU:
      case BPF_ALU64: {
        bool is32 = cls == BPF_ALU;
        value b = BPF_SRC(insn.code) == BPF_K
                      ? value{known{static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))}}
                      : s.regs[insn.src_reg];
        bool taint = b.unsure || (op != BPF_MOV && dst.unsure);
        if (const auto* p = patched_at(i)) {  // libbpf's value, written into a move of an immediate only
          dst = *p && op == BPF_MOV && BPF_SRC(insn.code) == BPF_K && insn.off == 0
                    ? value{known{is32 ? static_cast<std::uint32_t>(**p) : static_cast<std::uint64_t>(**p)}}
                    : unsure;
        } else if (op == BPF_MOV && insn.off == 0) {
          dst = !is32 || !b.k ? b : b.k->mem ? unsure : value{known{static_cast<std::uint32_t>(b.k->v)}};
        } else if (insn.off != 0 || !b.k || !dst.k) {
          dst = value{{}, taint || (b.k && b.k->mem) || (dst.k && dst.k->mem)};
        } else if (dst.k->mem && !b.k->mem && !is32 && (op == BPF_ADD || op == BPF_SUB)) {
          dst.k->v = op == BPF_ADD ? dst.k->v + b.k->v : dst.k->v - b.k->v;  // moving within read-only data
        } else if (!dst.k->mem && !b.k->mem) {
          dst = number(detail::alu(op, dst.k->v, b.k->v, is32));
        } else {
          dst = unsure;
        }
        flow(i + 1, s);
        break;
      }
      case BPF_JMP:
      case BPF_JMP32: {
        bool is32 = cls == BPF_JMP32;
        if (op == BPF_EXIT && !is32) break;
        if (op == BPF_CALL && !is32) {
          for (int r = 0; r <= 5; ++r) s.regs[r] = value{};
          if (insn.src_reg == BPF_PSEUDO_CALL) s.regs[0] = unsure;  // the verifier follows the subprogram
          clobber_stack(s);
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
        const value a = dst;
        const value b = BPF_SRC(insn.code) == BPF_K
                            ? value{known{static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))}}
                            : s.regs[insn.src_reg];
        std::optional<bool> taken;
        if (a.k && b.k && !a.k->mem && !b.k->mem)
          taken = detail::jump_taken(op, a.k->v, b.k->v, is32);
        else if (!detail::jump_taken(op, 0, 0, is32))
          return {};  // an opcode this does not know
        if (!taken && (a.unsure || b.unsure || (a.k && a.k->mem) || (b.k && b.k->mem)))
          s.sure = false;  // a branch the verifier may settle where the scan cannot
        if (!taken || !*taken) flow(i + 1, s);
        if (!taken || *taken) flow(i + 1 + insn.off, s);
        break;
      }
      default: return {};
    }
  }
  if (failed) return {};
  std::vector<reach> out(n, reach::dead);
  for (std::size_t k = 0; k < n; ++k)
    if (in[k]) out[k] = in[k]->sure ? reach::sure : reach::unsure;
  // The second half of a reachable ld_imm64 belongs to it.
  for (std::size_t k = 0; k + 1 < n; ++k)
    if (out[k] != reach::dead && cs.insns[begin + k].code == (BPF_LD | BPF_IMM | BPF_DW)) out[k + 1] = out[k];
  return out;
}

}  // namespace bpfprobe::objcheck
