#include <bpfprobe/decide/facts.hpp>
#include <sstream>

#include "render.hpp"

namespace bpfprobe::cli {

std::variant<std::vector<requirement>, std::string> parse_requirements(const std::string& list) {
  std::vector<requirement> out;
  std::vector<std::string> items;
  std::string part;
  std::istringstream in(list);
  while (std::getline(in, part, ',')) items.push_back(part);
  if (list.ends_with(',')) items.emplace_back();  // getline drops a trailing empty item
  for (const auto& item : items) {
    if (item.empty()) return std::string("--require has an empty feature (two commas, or one at either end)");
    auto parsed = fact_key::parse(item);
    if (auto* err = std::get_if<std::string>(&parsed)) return *err;
    out.push_back({btf::escape(item, 120), std::get<fact_key>(std::move(parsed))});
  }
  if (out.empty()) return std::string("--require needs at least one feature");
  return out;
}

require_outcome check_requirements(prober& p, const std::vector<requirement>& reqs) {
  require_outcome out;
  for (const auto& r : reqs) {
    // A name the catalog does not know is a usage error in every family, never a verdict.
    if (auto missing = decide::no_such_fact(p, r.key)) {
      out.lines.push_back(r.text + ": " + *missing);  // names in it are C identifiers
      out.code = exit_usage;
      continue;
    }
    verdict v = decide::verdict_of(p, r.key);
    std::string line = r.text + ": " + std::string(to_string(v.state));
    if (!v.reason.empty() && !v.supported()) line += " (" + v.reason + ")";
    out.lines.push_back(std::move(line));
    // Precedence: a usage error beats unknown, unknown beats unsupported.
    int code = v.state == status::supported     ? exit_ok
               : v.state == status::unsupported ? exit_unsupported
                                                : exit_unknown;
    if (out.code != exit_usage && (code == exit_unknown || (code == exit_unsupported && out.code == exit_ok)))
      out.code = code;
  }
  return out;
}

}  // namespace bpfprobe::cli

namespace bpfprobe::cli {

int list_keys(std::ostream& out, prober& p, std::string_view prefix) {
  auto colon = prefix.find(':');
  std::string_view family_word = prefix.substr(0, colon);
  if (family_word.empty()) {
    for (const auto& f : fact_families) out << f.name << ":\n";
    return exit_ok;
  }
  auto family = family_named(family_word);
  if (!family) return exit_usage;
  std::string name(spelling(*family).name);
  bool with_detail = *family == fact_family::helper || *family == fact_family::kfunc || *family == fact_family::link ||
                     *family == fact_family::attach;
  if (colon == std::string_view::npos || !with_detail) {
    for (const auto& n : decide::known_names(p, *family)) out << name << ':' << n << '\n';
    return exit_ok;
  }
  std::string_view first = prefix.substr(colon + 1);
  first = first.substr(0, first.find(':'));
  for (const auto& d : decide::known_names(p, *family, first)) out << name << ':' << first << ':' << d << '\n';
  return exit_ok;
}

}  // namespace bpfprobe::cli
