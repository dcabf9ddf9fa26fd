// Definitions for bpfprobe/report/render_stream.hpp (inline in the header-only mode, compiled into
// libbpfprobe otherwise).
#include <algorithm>
#include <array>
#include <bpfprobe/report/render_stream.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/version.hpp>
#include <cctype>
#include <ostream>

namespace bpfprobe::render::markdown_detail {

// Table cells: one line, no column breaks, no stray HTML.
BPFPROBE_INLINE std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\n':
      case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

BPFPROBE_INLINE std::string badge(status s) {
  switch (s) {
    case status::supported: return "✅ supported";
    case status::unsupported: return "❌ unsupported";
    case status::unknown: return "❔ unknown";
  }
  return "❔ unknown";
}

// "kfuncs" -> "Kfuncs", "attach_mechanisms" -> "Attach mechanisms".
BPFPROBE_INLINE std::string title_of(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

// The anchor GitHub and most renderers derive from a heading: lower case, spaces to dashes.
BPFPROBE_INLINE std::string anchor_of(std::string_view heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_')
      out += static_cast<char>(std::tolower(c));
    else if (c == ' ')
      out += '-';
  }
  return out;
}

BPFPROBE_INLINE std::array<int, 3> tally(const section& s) {
  std::array<int, 3> n{};
  for (const auto& f : s) ++n[static_cast<int>(f.v.state)];
  return n;
}

// The reason, the errno by name and the deciding evidence in one cell.
BPFPROBE_INLINE std::string why(const verdict& v) {
  std::string out = v.value ? "value " + std::to_string(*v.value) : std::string();
  if (!v.reason.empty()) out += (out.empty() ? "" : "; ") + cell(v.reason);
  if (v.err) out += (out.empty() ? "" : " ") + std::string("(") + sys::errno_name(v.err) + ")";
  if (!v.evidence.empty()) out += (out.empty() ? "" : " — ") + std::string("`") + cell(v.evidence) + "`";
  return out;
}

BPFPROBE_INLINE std::string optional_number(const std::optional<int>& v) { return v ? std::to_string(*v) : "?"; }

BPFPROBE_INLINE void fact_table(std::ostream& out, const std::string& title, const section& s) {
  out << "\n## " << title << "\n\n";
  if (s.empty()) {
    out << "(none)\n";
    return;
  }
  bool docs = std::any_of(s.begin(), s.end(), [](const fact& f) { return !f.first_kernel.empty(); });
  out << "| Name | Status | Why |" << (docs ? " First kernel |" : "") << "\n|---|---|---|" << (docs ? "---|" : "")
      << '\n';
  for (const auto& f : s) {
    out << "| `" << cell(f.name) << "` | " << badge(f.v.state) << " | " << why(f.v) << " |";
    if (docs) out << ' ' << cell(f.first_kernel) << " |";
    out << '\n';
  }
}

BPFPROBE_INLINE void helper_tables(std::ostream& out, const report& r) {
  out << "\n## Helpers\n\n| Program type | Supported | Unsupported | Unknown |\n|---|---:|---:|---:|\n";
  for (const auto& [type, s] : r.helpers) {
    auto n = tally(s);
    out << "| `" << cell(type) << "` | " << n[0] << " | " << n[1] << " | " << n[2] << " |\n";
  }
  // The helpers each usable program type may call, folded away (they are thousands).
  for (const auto& [type, s] : r.helpers) {
    std::string names;
    for (const auto& f : s)
      if (f.v.supported()) names += (names.empty() ? "" : ", ") + cell(f.name);
    if (names.empty()) continue;
    out << "\n<details><summary><code>" << cell(type) << "</code>: " << tally(s)[0]
        << " helpers available</summary>\n\n"
        << names << "\n\n</details>\n";
  }
}

BPFPROBE_INLINE void compat_table(std::ostream& out, const std::vector<compat_accessor>& accessors) {
  out << "\n## Compat tiers\n\nThe tier each accessor of `bpf/bpfprobe/compat.bpf.h` gets here (first supported).\n\n"
         "| Accessor | Tier | For | Tiers tried |\n|---|---|---|---|\n";
  for (const auto& a : accessors) {
    std::string tried;
    for (const auto& [name, v] : a.tiers) {
      tried += (tried.empty() ? "" : "<br>") + cell(name) + ": " + badge(v.state);
      if (!v.supported() && !v.reason.empty()) tried += " (" + cell(v.reason) + ")";
    }
    out << "| `" << cell(a.name) << "` | " << (a.tier == "unavailable" ? "❌ unavailable" : "`" + cell(a.tier) + "`")
        << " | `" << cell(a.prog_type) << "` | " << tried << " |\n";
  }
}

BPFPROBE_INLINE void attach_table(std::ostream& out, const std::vector<attach_choice>& hooks) {
  out << "\n## Attach paths\n\nPer hook, the first supported candidate is chosen.\n\n"
         "| Hook | Chosen | Candidates |\n|---|---|---|\n";
  for (const auto& h : hooks) {
    std::string cands;
    for (const auto& c : h.candidates) {
      cands += (cands.empty() ? "" : "<br>") + cell(c.path) + ": " + badge(c.v.state);
      if (!c.v.supported() && !c.v.reason.empty()) cands += " (" + cell(c.v.reason) + ")";
    }
    out << "| `" << cell(h.hook) << "` | " << (h.chosen.empty() ? "❌ none" : "`" + cell(h.chosen) + "`") << " | "
        << cands << " |\n";
  }
}

}  // namespace bpfprobe::render::markdown_detail

namespace bpfprobe::render {

BPFPROBE_INLINE void markdown(std::ostream& out, const report& r) {
  using namespace markdown_detail;
  const auto& k = r.kernel;
  out << "# BPF features of Linux " << cell(k.release) << "\n\n";
  out << "Probed by bpfprobe " << version
      << ". Every verdict is supported, unsupported or unknown (not decidable here, e.g. not permitted), "
         "with the reason and the evidence that decided it.\n\n";
  out << "| Kernel | |\n|---|---|\n";
  out << "| Release | " << cell(k.release) << " |\n";
  out << "| BTF | " << (k.btf.empty() ? "none" : cell(k.btf)) << " |\n";
  out << "| Type names from | " << cell(r.names_source) << " |\n";
  out << "| Lockdown | " << (k.lockdown.empty() ? "unknown" : cell(k.lockdown)) << " |\n";
  out << "| unprivileged_bpf_disabled | " << optional_number(k.unprivileged_bpf_disabled) << " |\n";
  out << "| JIT | enable=" << optional_number(k.jit_enable) << " harden=" << optional_number(k.jit_harden)
      << " kallsyms=" << optional_number(k.jit_kallsyms) << " |\n";
  out << "| Kernel config | " << (k.config_source.empty() ? "not found" : cell(k.config_source)) << " |\n";
  if (!r.kfunc_list_source.empty()) {
    out << "| Kfuncs listed by | " << cell(r.kfunc_list_source);
    if (r.kfuncs_undecided)
      out << " (" << r.kfuncs_undecided << " candidates undecided: " << cell(r.kfuncs_undecided_reason) << ")";
    out << " |\n";
  }

  // Sections in the order they print, each with its tally and a link to its table.
  std::vector<std::pair<std::string, const section*>> sections{
      {"Program types", &r.program_types}, {"Map types", &r.map_types}, {"Misc", &r.misc}};
  for (const auto& [name, s] : r.more) sections.emplace_back(title_of(name), &s);
  sections.emplace_back("Kernel config", &r.config);
  std::array<int, 3> helper_total{};
  for (const auto& [type, s] : r.helpers) {
    auto n = tally(s);
    for (int i = 0; i < 3; ++i) helper_total[i] += n[i];
  }
  out << "\n## Summary\n\n| Section | Supported | Unsupported | Unknown |\n|---|---:|---:|---:|\n";
  auto row = [&](const std::string& title, const std::array<int, 3>& n) {
    out << "| [" << title << "](#" << anchor_of(title) << ") | " << n[0] << " | " << n[1] << " | " << n[2] << " |\n";
  };
  row(sections[0].first, tally(*sections[0].second));
  row(sections[1].first, tally(*sections[1].second));
  if (!r.helpers.empty()) row("Helpers", helper_total);
  for (std::size_t i = 2; i < sections.size(); ++i) row(sections[i].first, tally(*sections[i].second));
  if (!r.compat.empty()) {
    std::array<int, 3> n{};
    for (const auto& a : r.compat) ++n[a.tier == "unavailable" ? 1 : 0];
    row("Compat tiers", n);
  }
  if (!r.attach.empty()) {
    std::array<int, 3> n{};
    for (const auto& h : r.attach) ++n[h.chosen.empty() ? 1 : 0];
    row("Attach paths", n);
  }

  fact_table(out, sections[0].first, *sections[0].second);
  fact_table(out, sections[1].first, *sections[1].second);
  if (!r.helpers.empty()) helper_tables(out, r);
  for (std::size_t i = 2; i < sections.size(); ++i) fact_table(out, sections[i].first, *sections[i].second);
  if (!r.compat.empty()) compat_table(out, r.compat);
  if (!r.attach.empty()) attach_table(out, r.attach);
}

}  // namespace bpfprobe::render
