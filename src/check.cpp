// `bpfprobe check FILE.bpf.o...`: per object, a line per program saying whether it loads here (static
// prediction, then the trial load unless --no-load), why not, and what to use instead.
#include <bpfprobe/check/check.hpp>

#include "render.hpp"

namespace bpfprobe::cli {
namespace {

nlohmann::json verdict_json(const verdict& v) {
  nlohmann::json j{{"status", to_string(v.state)}, {"reason", v.reason}, {"evidence", v.evidence}};
  if (v.err) j["errno"] = sys::errno_name(v.err);
  return j;
}

nlohmann::json program_json(const objcheck::program_result& p) {
  auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json needs = nlohmann::json::array();
  for (const auto& n : p.needs)
    needs.push_back({{"fact", n.fact}, {"status", to_string(n.v.state)}, {"reason", n.v.reason}});
  nlohmann::json j{{"name", p.name},
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
                   {"trial", p.trial ? verdict_json(*p.trial) : nlohmann::json(nullptr)},
                   {"disagree", p.disagree()},
                   {"attach", verdict_json(p.attach)},
                   {"placeholder_target", p.placeholder},
                   {"warnings", p.warnings}};
  return j;
}

nlohmann::json object_json(const objcheck::object_result& r) {
  nlohmann::json progs = nlohmann::json::array(), maps = nlohmann::json::array();
  for (const auto& p : r.programs) progs.push_back(program_json(p));
  for (const auto& m : r.maps) {
    nlohmann::json needs = nlohmann::json::array();
    for (const auto& n : m.needs)
      needs.push_back({{"fact", n.fact}, {"status", to_string(n.v.state)}, {"reason", n.v.reason}});
    maps.push_back({{"name", m.name},
                    {"type", m.type},
                    {"flags", m.flags},
                    {"status", to_string(m.v.state)},
                    {"reason", m.v.reason},
                    {"needs", std::move(needs)}});
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
  out << btf::escape(r.path, 200) << ": " << to_string(r.v.state) << " (" << r.programs.size()
      << " programs: " << counts[0] << " load, " << counts[2] << " do not, " << counts[1] << " unknown";
  if (r.disagreements()) out << "; static and trial disagree on " << r.disagreements();
  out << ")\n";
  for (const auto& p : r.programs) {
    out << "  " << btf::escape(p.name, 64) << "  " << btf::escape(p.section, 120) << "  "
        << btf::escape(brief(p.result), 400);
    if (!p.instead.empty()) out << "  [instead: " << btf::escape(p.instead, 120) << "]";
    out << '\n';
    if (!p.result.supported() && !p.result.evidence.empty())
      out << "      evidence: " << btf::escape(p.result.evidence, 300) << '\n';
    if (p.disagree())
      out << "      static: " << btf::escape(brief(p.static_v), 300) << "; trial: " << btf::escape(brief(*p.trial), 300)
          << '\n';
    if (p.result.supported() && p.attach.state == status::unsupported)
      out << "      attach: " << btf::escape(brief(p.attach), 300) << '\n';
    for (const auto& w : p.warnings) out << "      warning: " << btf::escape(w, 300) << '\n';
  }
  for (const auto& m : r.maps)
    if (!m.v.supported())
      out << "  map " << btf::escape(m.name, 64) << " (" << m.type << "): " << btf::escape(brief(m.v), 300) << '\n';
}

}  // namespace

int run_check(std::ostream& out, std::ostream& err, const check_request& req) {
  prober p;
  objcheck::options opt;
  opt.trial = !req.no_load;
  opt.programs = req.programs;
  opt.threads = req.threads;
  bool bad_input = false;
  status worst = status::supported;
  std::set<std::string> found_programs;
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& file : req.files) {
    auto res = check(p, file, opt);
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
    if (req.json)
      objects.push_back(object_json(r));
    else
      print_object(out, r);
  }
  for (const auto& name : req.programs)
    if (!found_programs.contains(name)) {
      err << "bpfprobe check: no program named " << btf::escape(name, 100) << '\n';
      bad_input = true;
    }
  if (req.json)
    out << nlohmann::json{{"objects", objects}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out.flush();
  if (bad_input) return exit_usage;
  return worst == status::unsupported ? exit_unsupported : worst == status::unknown ? exit_unknown : exit_ok;
}

}  // namespace bpfprobe::cli
