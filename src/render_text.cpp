#include <algorithm>
#include <array>

#include "render.hpp"

namespace bpfprobe::cli {
namespace {

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

std::array<int, 3> tally(const section& s) {
  std::array<int, 3> n{};
  for (const auto& f : s) ++n[static_cast<int>(f.v.state)];
  return n;
}

std::string counts(const std::array<int, 3>& n) {
  return std::to_string(n[0]) + " supported, " + std::to_string(n[1]) + " unsupported, " + std::to_string(n[2]) +
         " unknown";
}

// Link facts list the attach types that work (and those that do not) under the fact's line.
void print_attach_types(std::ostream& out, const fact& f) {
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

void print_section(std::ostream& out, const palette& p, std::string_view title, const section& s) {
  if (s.empty()) return;
  std::size_t width = 0;
  for (const auto& f : s) width = std::max(width, f.name.size());
  out << '\n' << p.bold() << title << p.reset() << " (" << counts(tally(s)) << ")\n";
  for (const auto& f : s) {
    std::string state(to_string(f.v.state));
    out << "  " << f.name << std::string(width - f.name.size() + 2, ' ') << p.paint(f.v.state) << state
        << p.reset() << std::string(13 - state.size(), ' ');
    std::string detail = f.v.reason;
    if (!f.v.evidence.empty()) detail += detail.empty() ? f.v.evidence : " [" + f.v.evidence + "]";
    out << detail << '\n';
    print_attach_types(out, f);
  }
}

void print_helpers(std::ostream& out, const palette& p, const report& r, bool verbose) {
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
    out << "  " << type << std::string(width - type.size() + 2, ' ') << p.paint(status::supported) << n[0]
        << p.reset() << " supported, " << n[1] << " unsupported, " << p.paint(n[2] ? status::unknown : status::supported)
        << n[2] << p.reset() << " unknown";
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
void print_attach(std::ostream& out, const palette& p, const std::vector<attach_choice>& hooks, bool verbose) {
  if (hooks.empty()) return;
  std::size_t hw = 4, cw = 6;
  for (const auto& h : hooks) {
    hw = std::max(hw, h.hook.size());
    cw = std::max(cw, h.chosen.empty() ? std::size_t{6} : h.chosen.size());
  }
  out << '\n' << p.bold() << "Attach paths" << p.reset() << " (chosen = first supported candidate)\n";
  out << "  " << "hook" << std::string(hw - 2, ' ') << "chosen" << std::string(cw - 4, ' ') << "candidates\n";
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

}  // namespace

void print_text(std::ostream& out, const report& r, bool color, bool verbose) {
  palette p{color};
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
  print_attach(out, p, r.attach, verbose);
  for (const auto& [name, s] : r.more) {
    std::string title = name;
    if (!title.empty()) title[0] = static_cast<char>(std::toupper(title[0]));
    std::replace(title.begin(), title.end(), '_', ' ');
    print_section(out, p, title, s);
  }
  print_section(out, p, "Kernel config" + (r.kernel.config_source.empty() ? std::string() : " from " + r.kernel.config_source),
                r.config);
}

}  // namespace bpfprobe::cli
