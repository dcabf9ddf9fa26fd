// A fact's name, one type for every family: parsed from and printed as the CLI spells it
// ("helper:xdp:bpf_redirect"), and turned into the key the prober's cache uses ("helper/xdp/...").
#pragma once

#include <array>
#include <bpfprobe/btf/names.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace bpfprobe {

enum class fact_family { prog, map, helper, misc, config, kfunc, link, iter, dynptr, mechanism, attach, calib };

struct family_spelling {
  fact_family family;
  std::string_view name;     // as written before the first ':'
  std::string_view section;  // the report section (JSON key) the family's facts live in
  std::string_view usage;    // the accepted forms, for messages
};

inline constexpr std::array<family_spelling, 12> fact_families = {{
    {fact_family::prog, "prog", "program_types", "prog:TYPE"},
    {fact_family::map, "map", "map_types", "map:TYPE"},
    {fact_family::helper, "helper", "helpers", "helper:PROG_TYPE:HELPER"},
    {fact_family::misc, "misc", "misc", "misc:NAME"},
    {fact_family::config, "config", "config", "config:CONFIG_NAME"},
    {fact_family::kfunc, "kfunc", "kfuncs", "kfunc:NAME[:PROG_TYPE]"},
    {fact_family::link, "link", "links", "link:TYPE[:ATTACH_TYPE]"},
    {fact_family::iter, "iter", "iterators", "iter:NAME"},
    {fact_family::dynptr, "dynptr", "dynptr", "dynptr:NAME"},
    {fact_family::mechanism, "mechanism", "attach_mechanisms", "mechanism:NAME"},
    {fact_family::attach, "attach", "attach", "attach:HOOK[:PATH]"},
    {fact_family::calib, "calib", "calibration", "calib:NAME"},
}};

inline const family_spelling& spelling(fact_family f) { return fact_families[static_cast<std::size_t>(f)]; }

// Older spellings still accepted on input (the report's section names and singular forms).
inline std::optional<fact_family> family_named(std::string_view word) {
  for (const auto& s : fact_families)
    if (word == s.name || word == s.section) return s.family;
  if (word == "prog_type") return fact_family::prog;
  if (word == "map_type") return fact_family::map;
  return std::nullopt;
}

struct fact_key {
  fact_family family{};
  std::string name;    // TYPE / NAME / HOOK; for helper: the program type
  std::string detail;  // helper: HELPER; kfunc: PROG_TYPE; link: ATTACH_TYPE; attach: PATH; else empty

  // "helper:xdp:bpf_redirect", the form parse() reads.
  [[nodiscard]] std::string str() const {
    return std::string(spelling(family).name) + ":" + name + (detail.empty() ? "" : ":" + detail);
  }
  // The name inside its report section ("xdp/bpf_redirect" for a helper).
  [[nodiscard]] std::string section_name() const { return detail.empty() ? name : name + "/" + detail; }

  // One parser for every family; an error message (naming the forms) when the text is not a key.
  static std::variant<fact_key, std::string> parse(std::string_view text) {
    std::string shown = btf::escape(text, 120);  // echoed in messages: one printable line
    auto bad = [&](std::string_view why) {
      return std::variant<fact_key, std::string>("bad feature '" + shown + "': " + std::string(why));
    };
    std::array<std::string_view, 3> parts{};
    std::size_t n = 0;
    for (std::string_view rest = text;;) {
      auto colon = rest.find(':');
      if (n == parts.size()) return bad("too many ':'");
      parts[n++] = rest.substr(0, colon);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    auto family = n >= 2 ? family_named(parts[0]) : std::nullopt;
    if (!family) {
      std::string forms;
      for (const auto& s : fact_families) forms += (forms.empty() ? "" : ", ") + std::string(s.usage);
      return bad("expected one of " + forms);
    }
    for (std::size_t i = 1; i < n; ++i)
      if (parts[i].empty() || !btf::is_identifier(parts[i]))
        return bad("names are C identifiers ([A-Za-z_][A-Za-z0-9_]*); expected " +
                   std::string(spelling(*family).usage));
    bool two_part = *family == fact_family::helper;
    bool may_have_detail =
        two_part || *family == fact_family::kfunc || *family == fact_family::link || *family == fact_family::attach;
    if ((two_part && n != 3) || (!may_have_detail && n != 2))
      return bad("expected " + std::string(spelling(*family).usage));
    return fact_key{*family, std::string(parts[1]), n == 3 ? std::string(parts[2]) : std::string()};
  }
};

}  // namespace bpfprobe
