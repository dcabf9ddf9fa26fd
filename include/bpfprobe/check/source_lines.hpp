// Source lines of a program's instructions, from the line info records of .BTF.ext (what clang -g
// writes: per code section, an instruction's byte offset with its file, line and column), and the
// layout libbpf gives a program when loading it, so that an instruction index in the verifier's log
// maps back to a section and an instruction there.
#pragma once

#include <bpf/btf.h>

#include <algorithm>
#include <bpfprobe/check/elf_image.hpp>
#include <bpfprobe/check/model.hpp>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bpfprobe::objcheck {

class line_table {
 public:
  // The line info of a .BTF.ext section (its shape was checked by parse_core_relos); records that
  // name strings outside `local`'s string table are left out.
  static line_table parse(const std::vector<char>& ext, const struct btf* local) {
    line_table t;
    if (!local || ext.size() < 24) return t;
    auto u32 = [&](std::size_t off) {
      std::uint32_t v = 0;
      if (off + 4 <= ext.size()) std::memcpy(&v, ext.data() + off, 4);
      return v;
    };
    std::size_t hdr = u32(4), off = u32(16), len = u32(20);
    if (hdr < 24 || hdr > ext.size() || off > ext.size() - hdr || len > ext.size() - hdr - off || len < 4) return t;
    std::size_t base = hdr + off, end = base + len, rec = u32(base), pos = base + 4;
    if (rec < 16) return t;
    while (end - pos >= 8) {
      const char* sec = btf__name_by_offset(local, u32(pos));
      std::size_t n = u32(pos + 4);
      pos += 8;
      if (n > (end - pos) / rec) break;
      for (std::size_t i = 0; i < n && sec; ++i) {
        std::size_t r = pos + i * rec;
        const char* file = btf__name_by_offset(local, u32(r + 4));
        std::uint32_t line_col = u32(r + 12);
        if (file && *file && (line_col >> 10) != 0)
          t.lines_[sec].push_back({u32(r) / 8, {file, line_col >> 10, line_col & 0x3ff, {}}});
      }
      pos += n * rec;
    }
    for (auto& [name, v] : t.lines_)
      std::stable_sort(v.begin(), v.end(), [](const entry& a, const entry& b) { return a.insn < b.insn; });
    return t;
  }

  [[nodiscard]] bool empty() const { return lines_.empty(); }

  // The line of an instruction: the last record at or before it in its section.
  [[nodiscard]] std::optional<source_location> at(const code_site& s) const {
    auto it = lines_.find(s.section);
    if (it == lines_.end()) return std::nullopt;
    const auto& v = it->second;
    auto after = std::upper_bound(v.begin(), v.end(), s.insn, [](std::size_t i, const entry& e) { return i < e.insn; });
    if (after == v.begin()) return std::nullopt;
    return std::prev(after)->where;
  }

 private:
  struct entry {
    std::size_t insn;
    source_location where;
  };
  std::map<std::string, std::vector<entry>, std::less<>> lines_;
};

namespace detail {
// The function of `sec` that contains instruction `at`: its first instruction and its end.
inline std::pair<std::size_t, std::size_t> function_around(const elf_image& img, const code_section& sec,
                                                           std::size_t at) {
  std::size_t begin = 0, end = sec.insns.size();
  for (const auto& s : img.symbols) {
    if (s.section != sec.index || s.type != STT_FUNC) continue;
    std::size_t b = s.value / sizeof(bpf_insn);
    if (b <= at && b >= begin) {
      begin = b;
      if (s.size) end = std::min(sec.insns.size(), b + s.size / sizeof(bpf_insn));
    }
  }
  for (const auto& s : img.symbols)
    if (s.section == sec.index && s.type == STT_FUNC && s.value / sizeof(bpf_insn) > begin)
      end = std::min<std::size_t>(end, s.value / sizeof(bpf_insn));
  return {begin, end};
}
}  // namespace detail

// The instructions of program `name` as libbpf loads them: its function, then every subprogram
// (called, or passed as a callback) appended at its first reference, depth first in instruction
// order (libbpf's bpf_object__reloc_code). Each piece is a section with [begin, end).
struct loaded_piece {
  const code_section* sec;
  std::size_t begin, end;
};

inline std::vector<loaded_piece> loaded_layout(const elf_image& img, std::string_view section, std::string_view name) {
  std::vector<loaded_piece> out;
  const code_section* sec = img.section(section);
  if (!sec) return out;
  std::optional<std::size_t> start;
  for (const auto& s : img.symbols)
    if (s.section == sec->index && s.type == STT_FUNC && s.name == name) start = s.value / sizeof(bpf_insn);
  if (!start || *start >= sec->insns.size()) return out;
  std::set<std::pair<const code_section*, std::size_t>> appended;
  // Iterative depth-first walk: a frame is a piece and the next instruction to look at in it.
  struct frame {
    loaded_piece piece;
    std::size_t next;
  };
  auto piece_at = [&](const code_section* cs, std::size_t at) {
    auto [b, e] = detail::function_around(img, *cs, at);
    return loaded_piece{cs, b, e};
  };
  loaded_piece main = piece_at(sec, *start);
  main.begin = *start;
  appended.insert({sec, main.begin});
  out.push_back(main);
  std::vector<frame> stack{{main, main.begin}};
  while (!stack.empty() && out.size() < 4096) {
    frame& f = stack.back();
    if (f.next >= f.piece.end) {
      stack.pop_back();
      continue;
    }
    std::size_t i = f.next++;
    const code_section* cs = f.piece.sec;
    const bpf_insn& in = cs->insns[i];
    bool call = in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL;
    bool func_ref = in.code == (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < f.piece.end;
    if (func_ref) ++f.next;  // the second half of the 16-byte load
    if (!call && !func_ref) continue;
    std::optional<std::pair<const code_section*, std::size_t>> target;
    auto r = cs->relocs.find(i);
    if (r != cs->relocs.end()) {
      const auto& sym = img.symbols[r->second];
      const code_section* ts = img.section_by_index(sym.section);
      if (!ts) continue;  // a map, a global variable or an extern: not code
      std::int64_t rel =
          call ? static_cast<std::int64_t>(in.imm) + 1 : in.imm / static_cast<std::int64_t>(sizeof(bpf_insn));
      std::int64_t t = static_cast<std::int64_t>(sym.value / sizeof(bpf_insn)) + rel;
      if (t >= 0 && static_cast<std::size_t>(t) < ts->insns.size()) target = {ts, static_cast<std::size_t>(t)};
    } else if (call || in.src_reg == BPF_PSEUDO_FUNC) {
      std::int64_t t = static_cast<std::int64_t>(i) + in.imm + 1;
      if (t >= 0 && static_cast<std::size_t>(t) < cs->insns.size()) target = {cs, static_cast<std::size_t>(t)};
    }
    if (!target || !appended.insert(*target).second) continue;
    loaded_piece p = piece_at(target->first, target->second);
    p.begin = target->second;
    out.push_back(p);
    stack.push_back({p, p.begin});  // invalidates `f`; it is not used again in this round
  }
  return out;
}

// Where instruction `index` of the loaded program came from.
inline std::optional<code_site> loaded_origin(const std::vector<loaded_piece>& layout, std::size_t index) {
  for (const auto& p : layout) {
    if (index < p.end - p.begin) return code_site{p.sec->name, p.begin + index};
    index -= p.end - p.begin;
  }
  return std::nullopt;
}

// The source line that decided program `r`: for a trial load the verifier refused, the instruction it
// stopped at; else for a static verdict the first site of the deciding need (the first unsupported
// one, else the first unknown one, as combine_needs picks it); else, and for a program that loads, its
// first line. Empty when the object has no line info for it.
inline std::optional<source_location> deciding_source(const elf_image& img, const line_table& lines,
                                                      const program_result& r,
                                                      std::optional<std::size_t> verifier_insn) {
  if (lines.empty()) return std::nullopt;
  auto layout = loaded_layout(img, r.section, r.name);
  auto located = [&](const std::optional<code_site>& site, const char* from) -> std::optional<source_location> {
    if (!site) return std::nullopt;
    auto l = lines.at(*site);
    if (l) l->from = from;
    return l;
  };
  if (!r.result.supported()) {
    if (r.trial && !r.trial->supported() && verifier_insn)
      if (auto l = located(loaded_origin(layout, *verifier_insn), "verifier")) return l;
    const need* deciding = nullptr;
    for (status s : {status::unsupported, status::unknown}) {
      for (const auto& n : r.needs)
        if (n.v.state == s) {
          deciding = &n;
          break;
        }
      if (deciding) break;
    }
    if (deciding && deciding->v.state == r.static_v.state)
      if (auto l = located(deciding->site, "static")) return l;
  }
  if (layout.empty()) return std::nullopt;
  return located(code_site{layout.front().sec->name, layout.front().begin}, "program");
}

}  // namespace bpfprobe::objcheck
