// Definitions for bpfprobe/report/render_stream.hpp (inline in the header-only mode, compiled into libbpfprobe
// otherwise).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bpfprobe/report/render_stream.hpp>
#include <bpfprobe/version.hpp>
#include <cctype>
#include <ostream>

namespace bpfprobe::render::text_detail {

struct palette {
  bool on;
  std::string_view paint(status s) const {
    if (!on) return "";
    switch (s) {
      case status::supported: return "\033[32m";
      case status::unsupported: return "\033[31m";
      case status::unknown: return "\033[33m";
    }
    return "";
  }
  std::string_view bold() const { return on ? "\033[1m" : ""; }
  std::string_view reset() const { return on ? "\033[0m" : ""; }
};

BPFPROBE_INLINE std::array<int, 3> tally(const section& s) {
  std::array<int, 3> n{};
  for (const auto& f : s) ++n[static_cast<int>(f.v.state)];
  return n;
}

BPFPROBE_INLINE std::string counts(const std::array<int, 3>& n) {
  return std::to_string(n[0]) + " supported, " + std::to_string(n[1]) + " unsupported, " + std::to_string(n[2]) +
         " unknown";
}

BPFPROBE_INLINE const std::string* attr_of(const fact& f, std::string_view key) {
  for (const auto& [k, v] : f.attrs)
    if (k == key) return &v;
  return nullptr;
}

// Link facts list the attach types that work (and those that do not) under the fact's line.
BPFPROBE_INLINE void print_attach_types(std::ostream& out, const fact& f) {
  for (const auto& [key, items] : f.lists) {
    if (!key.starts_with("attach_types") || items.empty()) continue;
    std::string label = key == "attach_types" ? "attach types" : key.substr(13) + " attach types";
    std::string line = "      " + label + ":";
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string item = " " + items[i] + (i + 1 < items.size() ? "," : "");
      if (line.size() + item.size() > 110) {
        out << line << '\n';
        line = "       ";
      }
      line += item;
    }
    out << line << '\n';
  }
}

BPFPROBE_INLINE void print_section(std::ostream& out, const palette& p, std::string_view title, const section& s) {
  if (s.empty()) return;
  std::size_t width = 0;
  for (const auto& f : s) width = std::max(width, f.name.size());
  out << '\n' << p.bold() << title << p.reset() << " (" << counts(tally(s)) << ")\n";
  for (const auto& f : s) {
    std::string state(to_string(f.v.state));
    out << "  " << f.name << std::string(width - f.name.size() + 2, ' ') << p.paint(f.v.state) << state << p.reset()
        << std::string(13 - state.size(), ' ');
    std::string detail = f.v.reason;
    if (f.v.value) {
      const auto* unit = attr_of(f, "unit");
      detail =
          "value " + std::to_string(*f.v.value) + (unit ? " " + *unit : "") + (detail.empty() ? "" : "; " + detail);
    }
    if (!f.v.evidence.empty()) detail += detail.empty() ? f.v.evidence : " [" + f.v.evidence + "]";
    out << detail << '\n';
    print_attach_types(out, f);
  }
}

BPFPROBE_INLINE void print_helpers(std::ostream& out, const palette& p, const report& r, bool verbose) {
  if (r.helpers.empty()) return;
  std::array<int, 3> total{};
  std::size_t width = 0;
  for (const auto& [type, s] : r.helpers) {
    auto n = tally(s);
    for (int i = 0; i < 3; ++i) total[i] += n[i];
    width = std::max(width, type.size());
  }
  out << '\n' << p.bold() << "Helpers by program type" << p.reset() << " (" << counts(total) << ")\n";
  for (const auto& [type, s] : r.helpers) {
    auto n = tally(s);
    out << "  " << type << std::string(width - type.size() + 2, ' ') << p.paint(status::supported) << n[0] << p.reset()
        << " supported, " << n[1] << " unsupported, " << p.paint(n[2] ? status::unknown : status::supported) << n[2]
        << p.reset() << " unknown";
    if (n[2] && !s.empty()) out << "  (" << s.front().v.reason << ")";
    out << '\n';
    if (!verbose) continue;
    std::string line = "     ";
    for (const auto& f : s) {
      if (!f.v.supported()) continue;
      if (line.size() + f.name.size() + 1 > 100) {
        out << line << '\n';
        line = "     ";
      }
      line += " " + f.name;
    }
    if (line.size() > 5) out << line << '\n';
  }
  if (!verbose) out << "  (--verbose lists every helper)\n";
}

// One line per hook: the chosen path, then every candidate with its status. Verbose adds the
// reason of each candidate that is not supported.
BPFPROBE_INLINE void print_attach(std::ostream& out, const palette& p, const std::vector<attach_choice>& hooks,
                                  bool verbose) {
  if (hooks.empty()) return;
  std::size_t hw = 4, cw = 6;
  for (const auto& h : hooks) {
    hw = std::max(hw, h.hook.size());
    cw = std::max(cw, h.chosen.empty() ? std::size_t{6} : h.chosen.size());
  }
  out << '\n' << p.bold() << "Attach paths" << p.reset() << " (chosen = first supported candidate)\n";
  out << "  "
      << "hook" << std::string(hw - 2, ' ') << "chosen" << std::string(cw - 4, ' ') << "candidates\n";
  for (const auto& h : hooks) {
    std::string chosen = h.chosen.empty() ? "(none)" : h.chosen;
    out << "  " << h.hook << std::string(hw - h.hook.size() + 2, ' ')
        << p.paint(h.chosen.empty() ? status::unsupported : status::supported) << chosen << p.reset()
        << std::string(cw - chosen.size() + 2, ' ');
    bool first = true;
    for (const auto& c : h.candidates) {
      out << (first ? "" : " > ") << c.path << '=' << p.paint(c.v.state) << to_string(c.v.state) << p.reset();
      first = false;
    }
    for (const auto& [k, v] : h.attrs) out << "  [" << k << ": " << v << ']';
    out << '\n';
    for (const auto& c : h.candidates) {
      if (c.v.supported() || (!verbose && !h.chosen.empty())) continue;
      out << "      " << c.path << ": " << c.v.reason << '\n';
    }
  }
}

// Names wrapped under a label, indented.
BPFPROBE_INLINE void print_names(std::ostream& out, const std::string& label, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string line = "  " + label + ":";
  for (const auto& n : names) {
    if (line.size() + n.size() + 1 > 110) {
      out << line << '\n';
      line = "     ";
    }
    line += " " + n;
  }
  out << line << '\n';
}

// Kfuncs are many (200+): names grouped by module; a line each only for the ones not plainly
// callable. Verbose: one line per kfunc with where it was probed (or its program types) and its
// prototype.
BPFPROBE_INLINE void print_kfuncs(std::ostream& out, const palette& p, const report& r, const section& s,
                                  bool verbose) {
  if (s.empty() && !r.kfuncs_undecided) return;
  out << '\n'
      << p.bold() << "Kfuncs" << p.reset() << " (" << counts(tally(s)) << "; "
      << (r.kfunc_list_source == "load probes" ? "no bpf_kfunc tags in BTF: found by load probes"
                                               : "from bpf_kfunc BTF tags")
      << ")\n";
  if (r.kfuncs_undecided)
    out << "  " << p.paint(status::unknown) << r.kfuncs_undecided << " candidates undecided" << p.reset()
        << " (no load probe could tell whether they are kfuncs: " << r.kfuncs_undecided_reason << ")\n";
  if (verbose) {
    std::size_t width = 0;
    for (const auto& f : s) width = std::max(width, f.name.size());
    for (const auto& f : s) {
      std::string state(to_string(f.v.state));
      out << "  " << f.name << std::string(width - f.name.size() + 2, ' ') << p.paint(f.v.state) << state << p.reset()
          << std::string(13 - state.size(), ' ');
      if (const auto* m = attr_of(f, "module"); m && *m != "vmlinux") out << "[" << *m << "] ";
      std::string where;
      for (const auto& [k, v] : f.lists)
        if (k == "prog_types") {
          for (const auto& t : v) where += (where.empty() ? "" : ",") + t;
          where = "types: " + (where.empty() ? "none" : where);
        }
      if (where.empty())
        if (const auto* a = attr_of(f, "probed_as")) where = "via " + *a;
      if (!where.empty()) out << where << "  ";
      if (const auto* proto = attr_of(f, "prototype")) out << *proto;
      for (const auto& [k, v] : f.lists)
        if (k == "aliases")
          for (const auto& a : v) out << "  (also " << a << ")";
      if (!f.v.supported()) out << "  -- " << f.v.reason;
      out << '\n';
    }
    return;
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> by_module;
  std::vector<std::string> tag_only;
  std::vector<const fact*> other;
  for (const auto& f : s) {
    if (!f.v.supported()) {
      other.push_back(&f);
      continue;
    }
    if (!attr_of(f, "probed_as")) {
      tag_only.push_back(f.name);
      continue;
    }
    const auto* m = attr_of(f, "module");
    std::string module = m ? *m : "vmlinux";
    auto it = std::find_if(by_module.begin(), by_module.end(), [&](const auto& e) { return e.first == module; });
    if (it == by_module.end()) it = by_module.insert(by_module.end(), {module, {}});
    it->second.push_back(f.name);
  }
  for (const auto& [module, names] : by_module)
    print_names(out, module + " (" + std::to_string(names.size()) + ")", names);
  print_names(out, "tagged, but no probed program type may call them (" + std::to_string(tag_only.size()) + ")",
              tag_only);
  for (const fact* f : other)
    out << "  " << f->name << "  " << p.paint(f->v.state) << to_string(f->v.state) << p.reset() << "  " << f->v.reason
        << '\n';
  out << "  (--verbose: prototypes and where each was probed; --kfuncs=full: every program type)\n";
}

// One line per compat accessor: the tier it gets, then each tier with its status. Verbose adds the
// reason of each tier that is not supported.
BPFPROBE_INLINE void print_compat(std::ostream& out, const palette& p, const std::vector<compat_accessor>& accessors,
                                  bool verbose) {
  if (accessors.empty()) return;
  std::size_t aw = 8, tw = 4;
  for (const auto& a : accessors) {
    aw = std::max(aw, a.name.size());
    tw = std::max(tw, a.tier.size());
  }
  out << '\n' << p.bold() << "Compat tiers" << p.reset() << " (bpf/bpfprobe/compat.bpf.h; first supported tier)\n";
  for (const auto& a : accessors) {
    bool none = a.tier == "unavailable";
    out << "  " << a.name << std::string(aw - a.name.size() + 2, ' ')
        << p.paint(none ? status::unsupported : status::supported) << a.tier << p.reset()
        << std::string(tw - a.tier.size() + 2, ' ');
    bool first = true;
    for (const auto& [name, v] : a.tiers) {
      out << (first ? "" : " > ") << name << '=' << p.paint(v.state) << to_string(v.state) << p.reset();
      first = false;
    }
    out << "  [for " << a.prog_type << "]\n";
    for (const auto& [name, v] : a.tiers)
      if (!v.supported() && (verbose || none)) out << "      " << name << ": " << v.reason << '\n';
  }
}

}  // namespace bpfprobe::render::text_detail

namespace bpfprobe::render {

BPFPROBE_INLINE void text(std::ostream& out, const report& r, const text_options& opt) {
  using namespace text_detail;
  const bool verbose = opt.verbose;
  palette p{opt.color};
  out << p.bold() << "bpfprobe " << version << p.reset() << " on Linux " << r.kernel.release << '\n';
  out << "  BTF:       " << (r.kernel.btf.empty() ? "none" : r.kernel.btf) << '\n';
  out << "  names:     " << r.names_source << (r.names_from_btf ? " (kernel BTF enums)" : "") << '\n';
  auto num = [](const std::optional<int>& v) { return v ? std::to_string(*v) : std::string("?"); };
  out << "  lockdown:  " << (r.kernel.lockdown.empty() ? "unknown" : r.kernel.lockdown)
      << "    unprivileged_bpf_disabled: " << num(r.kernel.unprivileged_bpf_disabled)
      << "    jit: enable=" << num(r.kernel.jit_enable) << " harden=" << num(r.kernel.jit_harden)
      << " kallsyms=" << num(r.kernel.jit_kallsyms) << '\n';
  out << "  running as euid " << geteuid() << '\n';
  print_section(out, p, "Program types", r.program_types);
  print_section(out, p, "Map types", r.map_types);
  print_helpers(out, p, r, verbose);
  print_section(out, p, "Misc", r.misc);
  print_compat(out, p, r.compat, verbose);
  print_attach(out, p, r.attach, verbose);
  for (const auto& [name, s] : r.more) {
    std::string title = name;
    if (!title.empty()) title[0] = static_cast<char>(std::toupper(title[0]));
    std::replace(title.begin(), title.end(), '_', ' ');
    if (name == "kfuncs")
      print_kfuncs(out, p, r, s, verbose);
    else
      print_section(out, p, title, s);
  }
  print_section(out, p,
                "Kernel config" + (r.kernel.config_source.empty() ? std::string() : " from " + r.kernel.config_source),
                r.config);
}

}  // namespace bpfprobe::render
