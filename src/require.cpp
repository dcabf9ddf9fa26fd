#include <map>
#include <sstream>

#include "render.hpp"

namespace bpfprobe::cli {
namespace {

const std::map<std::string, std::string, std::less<>>& section_aliases() {
  static const std::map<std::string, std::string, std::less<>> m = {
      {"prog", "program_types"},
      {"prog_type", "program_types"},
      {"program_types", "program_types"},
      {"map", "map_types"},
      {"map_type", "map_types"},
      {"map_types", "map_types"},
      {"helper", "helpers"},
      {"helpers", "helpers"},
      {"misc", "misc"},
      {"config", "config"},
      {"kfunc", "kfuncs"},
      {"kfuncs", "kfuncs"},
      {"link", "links"},
      {"links", "links"},
      {"iter", "iterators"},
      {"iterators", "iterators"},
      {"dynptr", "dynptr"},
      {"mechanism", "attach_mechanisms"},
      {"attach_mechanisms", "attach_mechanisms"},
      {"attach", "attach"},
  };
  return m;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

}  // namespace

std::variant<std::vector<requirement>, std::string> parse_requirements(const std::string& list) {
  std::vector<requirement> out;
  auto items = split(list, ',');
  if (list.ends_with(',')) items.emplace_back();  // getline drops a trailing empty item
  for (const auto& raw_item : items) {
    if (raw_item.empty()) return std::string("--require has an empty feature (two commas, or one at either end)");
    std::string item = btf::escape(raw_item, 120);  // echoed in messages: one printable line
    auto parts = split(raw_item, ':');
    auto it = parts.size() >= 2 ? section_aliases().find(parts[0]) : section_aliases().end();
    if (it == section_aliases().end())
      return "bad feature '" + item +
             "': expected SECTION:NAME with SECTION one of prog, map, helper, misc, "
             "config, kfunc, link, iter, dynptr, mechanism, attach (helpers: helper:PROG_TYPE:HELPER; "
             "link:TYPE[:ATTACH_TYPE]; kfunc:NAME[:PROG_TYPE]; attach:HOOK[:PATH])";
    for (std::size_t i = 1; i < parts.size(); ++i)
      if (!parts[i].empty() && !btf::is_identifier(parts[i]))
        return "bad feature '" + item + "': names are C identifiers ([A-Za-z_][A-Za-z0-9_]*)";
    requirement r{item, it->second, {}};  // text: as given, escaped
    if (r.section == "helpers") {
      if (parts.size() != 3 || parts[1].empty() || parts[2].empty())
        return "bad feature '" + item + "': expected helper:PROG_TYPE:HELPER, e.g. helper:xdp:bpf_redirect";
      r.name = parts[1] + "/" + parts[2];
    } else if (r.section == "kfuncs" && parts.size() == 3) {  // kfunc:NAME:PROG_TYPE
      if (parts[1].empty() || parts[2].empty())
        return "bad feature '" + item +
               "': expected kfunc:NAME or kfunc:NAME:PROG_TYPE, e.g. kfunc:bpf_task_acquire:tracing";
      r.name = parts[1] + "/" + parts[2];
    } else if (r.section == "links" && parts.size() == 3) {  // link:TYPE:ATTACH_TYPE
      if (parts[1].empty() || parts[2].empty())
        return "bad feature '" + item +
               "': expected link:TYPE or link:TYPE:ATTACH_TYPE, e.g. link:tracing:trace_fentry";
      r.name = parts[1] + "/" + parts[2];
    } else if (r.section == "attach" && parts.size() == 3) {  // attach:HOOK:PATH
      if (parts[1].empty() || parts[2].empty())
        return "bad feature '" + item + "': expected attach:HOOK or attach:HOOK:PATH, e.g. attach:tc:tcx";
      r.name = parts[1] + "/" + parts[2];
    } else {
      if (parts.size() != 2 || parts[1].empty()) return "bad feature '" + item + "': expected SECTION:NAME";
      r.name = parts[1];
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) return std::string("--require needs at least one feature");
  return out;
}

require_outcome check_requirements(prober& p, const std::vector<requirement>& reqs) {
  require_outcome out;
  std::optional<report> full;  // built only when a requirement needs a section without a lazy query
  for (const auto& r : reqs) {
    std::optional<verdict> v;
    if (r.section == "program_types")
      v = p.prog_type(r.name);
    else if (r.section == "map_types")
      v = p.map_type(r.name);
    else if (r.section == "misc")
      v = p.misc(r.name);
    else if (r.section == "helpers") {
      auto slash = r.name.find('/');
      v = p.helper(r.name.substr(0, slash), r.name.substr(slash + 1));
    } else if (r.section == "links") {
      auto slash = r.name.find('/');
      v = slash == std::string::npos ? p.link(r.name)
                                     : p.link_attach_type(r.name.substr(0, slash), r.name.substr(slash + 1));
      if (v->reason.starts_with("no probe for link type")) v.reset();
    } else if (r.section == "kfuncs") {
      auto slash = r.name.find('/');
      v = slash == std::string::npos ? p.kfunc(r.name) : p.kfunc(r.name.substr(0, slash), r.name.substr(slash + 1));
    } else if (r.section == "iterators") {
      v = p.iterator(r.name);
    } else if (r.section == "dynptr") {
      v = p.dynptr(r.name);
      if (v->reason.starts_with("no such dynptr fact")) v.reset();
    } else if (r.section == "attach_mechanisms") {
      v = p.mechanism(r.name);
      if (v->reason.starts_with("no such attach mechanism probe")) v.reset();
    } else if (r.section == "attach") {  // attach:HOOK (a path is chosen) or attach:HOOK:PATH
      auto slash = r.name.find('/');
      auto c = decide::hook(decide::from(p), r.name.substr(0, slash));
      const decide::candidate* path = c && slash != std::string::npos ? c->find(r.name.substr(slash + 1)) : nullptr;
      if (!c || (slash != std::string::npos && !path)) {
        out.lines.push_back(r.text + ": no such attach hook or path");
        out.code = std::max<int>(out.code, exit_usage);
        continue;
      }
      v = path ? path->v : decide::hook_verdict(*c);
    }
    if (!v || (r.section == "misc" && v->reason.starts_with("no such misc probe"))) {
      if (!full) full = p.full_report();
      const section* s = r.section == "config" ? &full->config : r.section == "misc" ? &full->misc : nullptr;
      for (const auto& [name, sec] : full->more)
        if (name == r.section) s = &sec;
      const fact* f = s ? find_fact(*s, r.name) : nullptr;
      if (!f) {
        out.lines.push_back(r.text + ": no such feature in this report");
        out.code = std::max<int>(out.code, exit_usage);
        continue;
      }
      v = f->v;
    }
    std::string line = r.text + ": " + std::string(to_string(v->state));
    if (!v->reason.empty() && !v->supported()) line += " (" + v->reason + ")";
    out.lines.push_back(std::move(line));
    // Precedence: a usage error beats unknown, unknown beats unsupported.
    int code = v->state == status::supported     ? exit_ok
               : v->state == status::unsupported ? exit_unsupported
                                                 : exit_unknown;
    if (out.code != exit_usage && (code == exit_unknown || (code == exit_unsupported && out.code == exit_ok)))
      out.code = code;
  }
  return out;
}

}  // namespace bpfprobe::cli
