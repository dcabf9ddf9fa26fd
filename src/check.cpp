// `bpfprobe check FILE.bpf.o...`: per object, a line per program saying whether it loads here (static
// prediction, then the trial load unless --no-load), why not, and what to use instead.
#include <bpfprobe/check/check.hpp>
#include <bpfprobe/check/target.hpp>

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

namespace {

// A kernel snapshot given with --target, as the output names it. The snapshot itself is read when its
// turn comes and dropped after it: one is in memory at a time.
struct kernel_target {
  std::string file, release, machine;
  std::uint32_t version_code = 0;
};

// What the check and the prober read of one snapshot, while it is checked.
struct loaded_target {
  snapshot::kernel_snapshot snap;
  objcheck::recorded_kernel_view view;
  probe::options opts;
};

// The --target files (a directory stands for the *.snap files in it); nullopt after an error line.
std::optional<std::vector<std::string>> target_files(std::ostream& err, const check_request& req) {
  std::vector<std::string> files;
  for (const auto& given : req.targets) {
    std::error_code ec;
    if (!std::filesystem::is_directory(given, ec)) {
      files.push_back(given);
      continue;
    }
    std::vector<std::string> in_dir;
    for (const auto& e : std::filesystem::directory_iterator(given, ec))
      if (e.path().extension() == ".snap") in_dir.push_back(e.path().string());
    if (ec || in_dir.empty()) {
      err << "bpfprobe check: --target " << btf::escape(given, 200) << ": a directory without *.snap files\n";
      return std::nullopt;
    }
    std::sort(in_dir.begin(), in_dir.end());
    files.insert(files.end(), in_dir.begin(), in_dir.end());
  }
  return files;
}

// One snapshot read for its check; nullptr after an error line when it cannot stand in for a kernel.
std::unique_ptr<loaded_target> load_target(std::ostream& err, const std::string& file, const probe::options& base) {
  auto parsed = snapshot::kernel_snapshot::load(file);
  if (auto* e = std::get_if<std::string>(&parsed)) {  // "FILE: SECTION: why"
    err << "bpfprobe check: --target " << btf::escape(*e, 400) << '\n';
    return nullptr;
  }
  auto t =
      std::make_unique<loaded_target>(loaded_target{std::move(std::get<snapshot::kernel_snapshot>(parsed)), {}, base});
  std::string why;
  t->opts.recorded = objcheck::recorded_kernel_of(t->snap, "snapshot " + file, why);
  if (!t->opts.recorded) {
    err << "bpfprobe check: --target " << btf::escape(file, 200) << ": " << btf::escape(why, 300) << '\n';
    return nullptr;
  }
  t->view = objcheck::kernel_view_of(t->snap);
  return t;
}

std::string target_title(const kernel_target& t) { return t.release + " " + t.machine + " (" + t.file + ")"; }

// One program across the targets (oldest first): its status on each, the kernels it loads on, and
// the first kernel from which it loads on every newer one of the set (empty when the newest refuses it).
struct grid_row {
  std::string object, program;
  std::vector<status> states;
  std::vector<std::string> loads_on;
  std::string first;
};

std::vector<grid_row> grid_of(const std::vector<kernel_target>& targets,
                              const std::vector<std::vector<objcheck::object_result>>& per_target) {
  std::vector<grid_row> rows;
  if (per_target.empty()) return rows;
  for (std::size_t o = 0; o < per_target[0].size(); ++o)
    for (std::size_t i = 0; i < per_target[0][o].programs.size(); ++i) {
      grid_row row{per_target[0][o].path, per_target[0][o].programs[i].name, {}, {}, {}};
      std::size_t from = targets.size();
      for (std::size_t k = 0; k < targets.size(); ++k) {
        const auto& r = per_target[k][o].programs[i].result;
        row.states.push_back(r.state);
        if (r.supported()) {
          row.loads_on.push_back(targets[k].release);
          if (from == targets.size()) from = k;
        } else {
          from = targets.size();
        }
      }
      if (from < targets.size()) row.first = targets[from].release;
      rows.push_back(std::move(row));
    }
  return rows;
}

void print_grid(std::ostream& out, const std::vector<kernel_target>& targets, const std::vector<grid_row>& rows) {
  out << "kernels:";
  for (std::size_t k = 0; k < targets.size(); ++k) out << "  [" << k + 1 << "] " << show(target_title(targets[k]), 200);
  out << '\n';
  const std::string* object = nullptr;
  for (const auto& row : rows) {
    if (!object || *object != row.object) out << show(row.object, 200) << ":\n";
    object = &row.object;
    out << "  " << show(row.program, 64) << " ";
    for (std::size_t k = 0; k < row.states.size(); ++k)
      out << " [" << k + 1 << "] "
          << (row.states[k] == status::supported ? "loads"
              : row.states[k] == status::unknown ? "unknown"
                                                 : "no");
    if (!row.first.empty()) {
      out << "  first: " << show(row.first, 100) << '\n';
    } else if (row.loads_on.empty()) {
      out << "  loads on none of these\n";
    } else {
      std::string list;
      for (const auto& l : row.loads_on) list += (list.empty() ? "" : ", ") + l;
      out << "  loads only on " << show(list, 300) << '\n';
    }
  }
}

}  // namespace

int run_check(std::ostream& out, std::ostream& err, const check_request& req) {
  objcheck::options opt;
  opt.trial = !req.no_load;
  opt.programs = req.programs;
  opt.threads = req.threads;
  std::string format = req.json ? "json" : req.format;
  std::vector<std::string> target_list;
  if (!req.targets.empty()) {
    if (format != "text" && format != "json") {
      err << "bpfprobe check: --target prints text or json\n";
      return exit_usage;
    }
    auto files = target_files(err, req);
    if (!files) return exit_usage;
    target_list = std::move(*files);
  }
  // The objects are read once; a bad one is reported once.
  bool bad_input = false;
  std::vector<std::pair<std::string, objcheck::elf_image>> images;
  for (const auto& file : req.files) {
    auto img = objcheck::read_elf(file);
    if (auto* e = std::get_if<std::string>(&img)) {
      err << "bpfprobe check: " << btf::escape(file, 200) << ": " << btf::escape(*e, 300) << '\n';
      bad_input = true;
    } else {
      images.emplace_back(file, std::move(std::get<objcheck::elf_image>(img)));
    }
  }
  status worst = status::supported;
  std::set<std::string> found_programs;
  std::vector<std::vector<objcheck::object_result>> per_target;  // this kernel's, or one list per target
  std::vector<std::string> unopenable;                           // bad objects, once
  std::vector<kernel_target> targets;
  std::size_t rounds = target_list.empty() ? 1 : target_list.size();
  for (std::size_t k = 0; k < rounds; ++k) {
    std::unique_ptr<loaded_target> loaded;
    objcheck::options o = opt;
    if (!target_list.empty()) {
      loaded = load_target(err, target_list[k], req.prober_options);
      if (!loaded) return exit_usage;
      o.target = &loaded->view;
      targets.push_back(
          {target_list[k], loaded->snap.release(), loaded->snap.machine(), loaded->opts.recorded->version_code});
    }
    std::optional<prober> p;  // built at the first readable object: bad input fails fast
    std::vector<objcheck::object_result> results;
    for (const auto& [file, img] : images) {
      if (std::find(unopenable.begin(), unopenable.end(), file) != unopenable.end()) continue;
      if (!p) p.emplace(loaded ? loaded->opts : req.prober_options);
      auto res = objcheck::check_image(*p, img, o);
      if (auto* e = std::get_if<std::string>(&res)) {
        err << "bpfprobe check: " << btf::escape(file, 200) << ": " << btf::escape(*e, 300) << '\n';
        bad_input = true;
        unopenable.push_back(file);
        continue;
      }
      auto& r = std::get<objcheck::object_result>(res);
      for (const auto& prog : r.programs) {
        found_programs.insert(prog.name);
        if (objcheck::severity(prog.result.state) > objcheck::severity(worst)) worst = prog.result.state;
      }
      results.push_back(std::move(r));
    }
    per_target.push_back(std::move(results));
  }
  // Oldest kernel first: the grid reads left to right, and a program's first kernel is where it
  // starts to load on every newer one.
  if (!targets.empty()) {
    std::vector<std::size_t> order(targets.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return targets[a].version_code < targets[b].version_code; });
    std::vector<kernel_target> sorted_targets;
    std::vector<std::vector<objcheck::object_result>> sorted_results;
    for (std::size_t k : order) {
      sorted_targets.push_back(std::move(targets[k]));
      sorted_results.push_back(std::move(per_target[k]));
    }
    targets = std::move(sorted_targets);
    per_target = std::move(sorted_results);
  }
  for (const auto& name : req.programs)
    if (!found_programs.contains(name)) {
      err << "bpfprobe check: no program named " << btf::escape(name, 100) << '\n';
      bad_input = true;
    }
  auto dump = [&](const nlohmann::ordered_json& j) {
    out << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  };
  if (!targets.empty()) {
    if (format == "json") {
      nlohmann::ordered_json kernels = nlohmann::ordered_json::array();
      for (std::size_t k = 0; k < targets.size(); ++k) {
        nlohmann::ordered_json objects = nlohmann::ordered_json::array();
        for (const auto& r : per_target[k]) objects.push_back(object_json(r));
        kernels.push_back({{"snapshot", targets[k].file},
                           {"release", targets[k].release},
                           {"machine", targets[k].machine},
                           {"objects", std::move(objects)}});
      }
      nlohmann::ordered_json grid = nlohmann::ordered_json::array();
      for (const auto& row : grid_of(targets, per_target)) {
        nlohmann::ordered_json states = nlohmann::ordered_json::array();
        for (status st : row.states) states.push_back(to_string(st));
        grid.push_back(
            {{"object", row.object},
             {"program", row.program},
             {"status", std::move(states)},
             {"loads_on", row.loads_on},
             {"first", row.first.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(row.first)}});
      }
      dump({{"targets", std::move(kernels)}, {"grid", std::move(grid)}});
    } else {
      for (std::size_t k = 0; k < targets.size(); ++k) {
        out << "kernel " << show(target_title(targets[k]), 300) << ":\n";
        for (const auto& r : per_target[k]) print_object(out, r);
      }
      if (targets.size() > 1) print_grid(out, targets, grid_of(targets, per_target));
    }
  } else {
    const auto& results = per_target.front();
    if (format == "text") {
      for (const auto& r : results) print_object(out, r);
    } else if (format == "github") {
      print_github(out, results);
    } else if (format == "junit") {
      print_junit(out, results);
    } else if (format == "sarif") {
      print_sarif(out, results);
    } else {
      nlohmann::ordered_json objects = nlohmann::ordered_json::array();
      for (const auto& r : results) objects.push_back(object_json(r));
      dump({{"objects", std::move(objects)}});
    }
  }
  out.flush();
  if (bad_input) return exit_usage;
  return worst == status::unsupported ? exit_unsupported : worst == status::unknown ? exit_unknown : exit_ok;
}

}  // namespace bpfprobe::cli
