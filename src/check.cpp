// `bpfprobe check FILE.bpf.o...`: per object, a line per program saying whether it loads here (static
// prediction, then the trial load unless --no-load), why not, and what to use instead.
#include <bpfprobe/check/check.hpp>

#include "check_formats.hpp"
#include "render.hpp"

namespace bpfprobe::cli {

// Object names and kernel messages shown as text: control and non-ASCII bytes escaped, quotes kept
// (libbpf's messages quote names).
std::string show(std::string_view s, std::size_t limit) {
  std::string out;
  for (char c : s) out += c == '\'' || c == '"' ? std::string(1, c) : btf::escape(std::string_view(&c, 1), 1);
  if (out.size() > limit) out = out.substr(0, limit) + "...";
  return out;
}

namespace {

nlohmann::ordered_json verdict_json(const verdict& v) {
  nlohmann::ordered_json j{{"status", to_string(v.state)}, {"reason", v.reason}, {"evidence", v.evidence}};
  if (v.err) j["errno"] = sys::errno_name(v.err);
  return j;
}

nlohmann::ordered_json program_json(const objcheck::program_result& p) {
  auto opt = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
  };
  nlohmann::ordered_json needs = nlohmann::ordered_json::array();
  for (const auto& n : p.needs)
    needs.push_back({{"fact", n.fact}, {"status", to_string(n.v.state)}, {"reason", n.v.reason}});
  nlohmann::ordered_json j{{"name", p.name},
                           {"section", p.section},
                           {"prog_type", opt(p.prog_type)},
                           {"attach_type", opt(p.attach_type)},
                           {"target", opt(p.target)},
                           {"status", to_string(p.result.state)},
                           {"reason", p.result.reason},
                           {"evidence", p.result.evidence},
                           {"needs", std::move(needs)},
                           {"instead", opt(p.instead)},
                           {"static", verdict_json(p.static_v)},
                           {"trial", p.trial ? verdict_json(*p.trial) : nlohmann::ordered_json(nullptr)},
                           {"disagree", p.disagree()},
                           {"attach", verdict_json(p.attach)},
                           {"placeholder_target", p.placeholder},
                           {"warnings", p.warnings},
                           {"code", p.code},
                           {"fix", opt(p.fix)},
                           {"verifier", p.verifier},
                           {"source", nullptr}};
  if (p.source)
    j["source"] = {{"file", p.source->file},
                   {"line", p.source->line},
                   {"column", p.source->column ? nlohmann::ordered_json(p.source->column) : nullptr},
                   {"from", p.source->from}};
  return j;
}

nlohmann::ordered_json object_json(const objcheck::object_result& r) {
  nlohmann::ordered_json progs = nlohmann::ordered_json::array(), maps = nlohmann::ordered_json::array();
  for (const auto& p : r.programs) progs.push_back(program_json(p));
  for (const auto& m : r.maps) {
    nlohmann::ordered_json needs = nlohmann::ordered_json::array();
    for (const auto& n : m.needs)
      needs.push_back({{"fact", n.fact}, {"status", to_string(n.v.state)}, {"reason", n.v.reason}});
    maps.push_back(
        {{"name", m.name},
         {"type", m.type},
         {"flags", m.flags},
         {"status", to_string(m.v.state)},
         {"reason", m.v.reason},
         {"needs", std::move(needs)},
         {"code", m.code},
         {"fix", m.fix.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.fix)},
         {"pin_path", m.pin_path.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.pin_path)}});
  }
  return {{"path", r.path}, {"status", to_string(r.v.state)},    {"reason", r.v.reason}, {"programs", progs},
          {"maps", maps},   {"disagreements", r.disagreements()}};
}

std::string brief(const verdict& v) {
  std::string s(to_string(v.state));
  if (!v.supported() && !v.reason.empty()) s += ": " + v.reason;
  return s;
}

void print_object(std::ostream& out, const objcheck::object_result& r) {
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& p : r.programs) ++counts[objcheck::severity(p.result.state)];
  out << show(r.path, 200) << ": " << to_string(r.v.state) << " (" << r.programs.size() << " programs: " << counts[0]
      << " load, " << counts[2] << " do not, " << counts[1] << " unknown";
  if (r.disagreements()) out << "; static and trial disagree on " << r.disagreements();
  out << ")\n";
  for (const auto& p : r.programs) {
    out << "  " << show(p.name, 64) << "  " << show(p.section, 120) << "  " << show(brief(p.result), 400);
    if (p.result.supported() && p.verifier == "not run") out << " (verifier not run)";
    if (!p.instead.empty()) out << "  [instead: " << show(p.instead, 120) << "]";
    out << '\n';
    if (p.code != "ok") out << "      code: " << p.code << "; fix: " << show(p.fix, 300) << '\n';
    if (!p.result.supported() && !p.result.evidence.empty())
      out << "      evidence: " << show(p.result.evidence, 300) << '\n';
    if (p.disagree())
      out << "      static: " << show(brief(p.static_v), 300) << "; trial: " << show(brief(*p.trial), 300) << '\n';
    if (p.result.supported() && p.attach.state == status::unsupported)
      out << "      attach: " << show(brief(p.attach), 300) << '\n';
    for (const auto& w : p.warnings) out << "      warning: " << show(w, 300) << '\n';
  }
  for (const auto& m : r.maps)
    if (!m.v.supported())
      out << "  map " << show(m.name, 64) << " (" << m.type << "): " << show(brief(m.v), 300)
          << "\n      code: " << m.code << "; fix: " << show(m.fix, 300) << '\n';
}

}  // namespace

int run_check(std::ostream& out, std::ostream& err, const check_request& req) {
  std::optional<prober> p;  // built at the first readable object: bad input fails fast
  objcheck::options opt;
  opt.trial = !req.no_load;
  opt.programs = req.programs;
  opt.threads = req.threads;
  bool bad_input = false;
  status worst = status::supported;
  std::set<std::string> found_programs;
  std::string format = req.json ? "json" : req.format;
  std::vector<objcheck::object_result> results;  // kept for the formats that print everything at the end
  nlohmann::ordered_json objects = nlohmann::ordered_json::array();
  for (const auto& file : req.files) {
    auto img = objcheck::read_elf(file);
    objcheck::outcome res = std::string();
    if (auto* e = std::get_if<std::string>(&img)) {
      res = *e;
    } else {
      if (!p) p.emplace(req.prober_options);
      res = objcheck::check_image(*p, std::get<objcheck::elf_image>(img), opt);
    }
    if (auto* e = std::get_if<std::string>(&res)) {
      err << "bpfprobe check: " << btf::escape(file, 200) << ": " << btf::escape(*e, 300) << '\n';
      bad_input = true;
      continue;
    }
    const auto& r = std::get<objcheck::object_result>(res);
    for (const auto& prog : r.programs) {
      found_programs.insert(prog.name);
      if (objcheck::severity(prog.result.state) > objcheck::severity(worst)) worst = prog.result.state;
    }
    if (format == "json")
      objects.push_back(object_json(r));
    else if (format == "text")
      print_object(out, r);
    else
      results.push_back(r);
  }
  for (const auto& name : req.programs)
    if (!found_programs.contains(name)) {
      err << "bpfprobe check: no program named " << btf::escape(name, 100) << '\n';
      bad_input = true;
    }
  if (format == "github")
    print_github(out, results);
  else if (format == "junit")
    print_junit(out, results);
  else if (format == "sarif")
    print_sarif(out, results);
  else if (format == "json")
    out << nlohmann::ordered_json{{"objects", objects}}.dump(2, ' ', false,
                                                             nlohmann::ordered_json::error_handler_t::replace)
        << '\n';
  out.flush();
  if (bad_input) return exit_usage;
  return worst == status::unsupported ? exit_unsupported : worst == status::unknown ? exit_unknown : exit_ok;
}

}  // namespace bpfprobe::cli
