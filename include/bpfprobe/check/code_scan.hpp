// What a program's instructions need, from the ELF code sections: the program's function and every
// subprogram it calls or passes as a callback (bpf_loop), with their helper calls, kfunc and ksym
// externs, and the instruction-set features they use.
#pragma once

#include <algorithm>
#include <bpfprobe/check/elf_image.hpp>
#include <bpfprobe/check/map_args.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/check/reachable.hpp>
#include <set>

namespace bpfprobe::objcheck {

struct code_facts {
  std::set<std::int32_t> helpers;
  std::set<std::pair<std::int32_t, std::string>> helper_r1_symbols;  // surely reached calls, R1's symbol
  std::set<std::string> kfunc_calls;                                 // extern functions called (BPF_PSEUDO_KFUNC_CALL)
  std::set<std::string> sure_kfunc_calls;                            // those called from surely reached code
  std::set<std::string> ld_externs;  // externs whose address or value is loaded (ksyms, kconfig)
  bool jmp_v2 = false;               // JLT/JLE/JSLT/JSLE (4.20)
  bool jmp32 = false;                // BPF_JMP32 class (5.1)
  bool isa_v4 = false;               // sign-extending loads/moves, sdiv/smod, bswap, gotol (6.6)
  bool may_goto = false;             // BPF_JCOND may_goto (6.9)
  bool atomic_fetch = false;         // BPF_ATOMIC add with BPF_FETCH (5.12)
  bool atomic_xchg = false;          // BPF_ATOMIC xchg / cmpxchg (5.12)
  bool atomic_bitwise = false;       // BPF_ATOMIC and/or/xor, with or without BPF_FETCH (5.12)
  bool load_acq_store_rel = false;   // BPF_ATOMIC load-acquire / store-release (6.15)
  bool back_edge = false;
  std::set<std::int32_t> atomic_unknown;  // BPF_ATOMIC imm values no kernel bpfprobe knows accepts
  std::size_t insns = 0;
  // The first reachable call of each helper and kfunc, in the order of the scan.
  std::map<std::int32_t, code_site> helper_sites;
  std::map<std::string, code_site, std::less<>> kfunc_sites;
  // Instruction ranges [begin, end) per section name, for matching CO-RE relocation records.
  std::vector<std::tuple<std::string, std::size_t, std::size_t>> ranges;
  // Instructions proven dead (section name, index): their calls and relocations do not count.
  std::set<std::pair<std::string, std::size_t>> dead;
  // Instructions reached only past a branch the verifier may settle and the scan cannot.
  std::set<std::pair<std::string, std::size_t>> unsure;
  std::string error;  // a malformed call or jump; the scan is incomplete
};

namespace detail {

// The end of the function that starts at `start`: its symbol's size, else the next function.
inline std::size_t function_end(const elf_image& img, const code_section& sec, std::size_t start) {
  std::size_t end = sec.insns.size();
  for (const auto& s : img.symbols) {
    if (s.section != sec.index || s.type != STT_FUNC) continue;
    std::size_t at = s.value / sizeof(bpf_insn);
    if (at == start && s.size) return std::min(end, start + s.size / sizeof(bpf_insn));
    if (at > start) end = std::min(end, at);
  }
  return end;
}

// The kernel feature a BPF_STX|BPF_ATOMIC instruction's imm needs; plain BPF_ADD (BPF_XADD) is in
// every kernel.
inline void scan_atomic(code_facts& f, std::int32_t imm) {
  constexpr std::int32_t load_acq = 0x100, store_rel = 0x110;  // BPF_LOAD_ACQ, BPF_STORE_REL (6.15)
  std::int32_t op = imm & ~BPF_FETCH;
  if (imm == BPF_ADD) return;
  if (imm == load_acq || imm == store_rel)
    f.load_acq_store_rel = true;
  else if (imm == BPF_XCHG || imm == BPF_CMPXCHG)
    f.atomic_xchg = true;
  else if (op == BPF_AND || op == BPF_OR || op == BPF_XOR)
    f.atomic_bitwise = true;
  else if (imm == (BPF_ADD | BPF_FETCH))
    f.atomic_fetch = true;
  else
    f.atomic_unknown.insert(imm);
}

}  // namespace detail

// With `patches` (the values libbpf writes into instructions, per section) and `externs`, the
// calls, externs and callbacks count only at instructions the verifier can reach (reachable.hpp);
// without, everywhere.
// The instruction-set facts (opcodes, back-edges, size) count everywhere: the kernel's CFG check
// sees dead code too, also subprograms called only from it (libbpf links them in all the same).
inline code_facts scan_program(const elf_image& img, std::string_view section, std::string_view name,
                               const std::map<std::string, patched_values, std::less<>>* patches = nullptr,
                               const extern_values* externs = nullptr) {
  code_facts f;
  const code_section* sec = img.section(section);
  if (!sec) {
    f.error = "code section not found";
    return f;
  }
  std::size_t start = SIZE_MAX;
  for (const auto& s : img.symbols)
    if (s.section == sec->index && s.type == STT_FUNC && s.name == name) start = s.value / sizeof(bpf_insn);
  if (start == SIZE_MAX) {
    f.error = "function symbol not found";
    return f;
  }
  // Function -> how surely the calls that reach it are reached (scanned again when a call reached
  // more surely turns up).
  std::map<std::pair<const code_section*, std::size_t>, reach> seen;
  struct call {
    const code_section* cs;
    std::size_t begin;
    reach live;
  };
  std::vector<call> todo{{sec, start, reach::sure}};
  while (!todo.empty()) {
    // Plain variables, not a structured binding: the lambdas below capture them (clang 14 cannot).
    const call job = todo.back();
    todo.pop_back();
    const code_section* cs = job.cs;
    std::size_t begin = job.begin;
    reach live = job.live;
    auto [at, first] = seen.emplace(std::pair{cs, begin}, live);
    if (!first && at->second >= live) continue;
    at->second = live;
    if (begin >= cs->insns.size()) {
      f.error = "call target outside section " + cs->name;
      continue;
    }
    std::size_t end = detail::function_end(img, *cs, begin);
    if (first) {
      f.ranges.emplace_back(cs->name, begin, end);
      f.insns += end - begin;
    }
    std::vector<reach> reached;
    if (live == reach::dead) {
      reached.assign(end - begin, reach::dead);
    } else if (patches) {
      auto p = patches->find(cs->name);
      reached = reachable_insns(img, *cs, begin, end, p == patches->end() ? nullptr : &p->second, externs,
                                cs != sec || begin != start);
      if (reached.empty()) reached.assign(end - begin, reach::unsure);  // gave up
    } else {
      reached.assign(end - begin, reach::sure);
    }
    auto target_of = [&](std::size_t at,
                         std::int64_t rel) -> std::optional<std::pair<const code_section*, std::size_t>> {
      auto r = cs->relocs.find(at);
      if (r == cs->relocs.end()) {
        std::int64_t t = static_cast<std::int64_t>(at) + rel;
        if (t < 0 || static_cast<std::size_t>(t) >= cs->insns.size()) return std::nullopt;
        return std::pair{cs, static_cast<std::size_t>(t)};
      }
      const auto& sym = img.symbols[r->second];
      const code_section* ts = img.section_by_index(sym.section);
      if (!ts) return std::nullopt;
      std::int64_t t = static_cast<std::int64_t>(sym.value / sizeof(bpf_insn)) + rel;
      if (t < 0 || static_cast<std::size_t>(t) >= ts->insns.size()) return std::nullopt;
      return std::pair{ts, static_cast<std::size_t>(t)};
    };
    std::vector<bool> targets = jump_targets(*cs, begin, end);
    for (std::size_t i = begin; i < end; ++i) {
      reach here = std::min(reached[i - begin], live);
      bool reachable = here != reach::dead;
      if (reachable)
        f.dead.erase({cs->name, i});
      else
        f.dead.emplace(cs->name, i);
      if (here == reach::unsure)
        f.unsure.emplace(cs->name, i);
      else
        f.unsure.erase({cs->name, i});
      const bpf_insn& in = cs->insns[i];
      std::uint8_t cls = BPF_CLASS(in.code), op = BPF_OP(in.code);
      auto extern_at = [&](std::size_t at) -> const elf_symbol* {
        auto r = cs->relocs.find(at);
        if (r == cs->relocs.end()) return nullptr;
        const auto& sym = img.symbols[r->second];
        return sym.section == SHN_UNDEF ? &sym : nullptr;
      };
      if (in.code == (BPF_LD | BPF_IMM | BPF_DW)) {
        if (const auto* ext = extern_at(i)) {
          f.ld_externs.insert(ext->name);  // the kernel resolves ksym addresses in dead code too
        } else if (in.src_reg == BPF_PSEUDO_FUNC || cs->relocs.contains(i)) {
          auto r = cs->relocs.find(i);
          bool code_ref = in.src_reg == BPF_PSEUDO_FUNC ||
                          (r != cs->relocs.end() && img.section_by_index(img.symbols[r->second].section));
          if (code_ref) {
            // A callback: relative to the symbol in bytes, or to the next instruction without one.
            auto t = r != cs->relocs.end() ? target_of(i, in.imm / static_cast<std::int64_t>(sizeof(bpf_insn)))
                                           : target_of(i, in.imm + 1);
            if (t)
              todo.push_back({t->first, t->second, here});
            else
              f.error = "callback target out of range";
          }
        }
        ++i;
        continue;
      }
      if (cls == BPF_LDX && BPF_MODE(in.code) == 0x80) f.isa_v4 = true;  // BPF_MEMSX
      if (cls == BPF_STX && BPF_MODE(in.code) == BPF_ATOMIC) {
        // The verifier checks the operation while walking the code (do_check): dead code does not count.
        if (reachable) detail::scan_atomic(f, in.imm);
        continue;
      }
      if (cls == BPF_ALU || cls == BPF_ALU64) {
        if (op == BPF_MOV && in.off != 0) f.isa_v4 = true;                     // movsx
        if ((op == BPF_DIV || op == BPF_MOD) && in.off == 1) f.isa_v4 = true;  // sdiv, smod
        if (op == BPF_END && cls == BPF_ALU64) f.isa_v4 = true;                // bswap
        continue;
      }
      if (cls != BPF_JMP && cls != BPF_JMP32) continue;
      if (cls == BPF_JMP32) f.jmp32 = true;
      if (cls == BPF_JMP && op == BPF_CALL) {
        // clang emits an extern function call as a pseudo call relocated against the undefined
        // symbol; libbpf turns it into a kfunc call.
        if (const auto* ext = in.src_reg != 0 ? extern_at(i) : nullptr) {
          if (reachable) {
            f.kfunc_calls.insert(ext->name);
            f.kfunc_sites.try_emplace(ext->name, code_site{cs->name, i});
          }
          if (here == reach::sure) f.sure_kfunc_calls.insert(ext->name);
        } else if (in.src_reg == 0) {
          if (reachable) {
            f.helpers.insert(in.imm);
            f.helper_sites.try_emplace(in.imm, code_site{cs->name, i});
          }
          if (here == reach::sure)
            if (auto sym = symbol_in_r1(img, *cs, begin, i, targets)) f.helper_r1_symbols.emplace(in.imm, *sym);
        } else if (in.src_reg == BPF_PSEUDO_CALL) {
          auto t = target_of(i, static_cast<std::int64_t>(in.imm) + 1);
          if (t)
            todo.push_back({t->first, t->second, here});
          else
            f.error = "subprogram call out of range";
        }
        continue;
      }
      if (cls == BPF_JMP && op == BPF_EXIT) continue;
      if (cls == BPF_JMP && op == 0xe0) {  // BPF_JCOND: may_goto
        f.may_goto = true;
        if (in.off < 0) f.back_edge = true;
        continue;
      }
      if (cls == BPF_JMP && (op == 0xa0 || op == 0xb0 || op == 0xc0 || op == 0xd0)) f.jmp_v2 = true;
      if (cls == BPF_JMP32 && op == BPF_JA) {  // gotol
        f.isa_v4 = true;
        if (in.imm < 0) f.back_edge = true;
        continue;
      }
      if (in.off < 0) f.back_edge = true;
    }
  }
  return f;
}

}  // namespace bpfprobe::objcheck
