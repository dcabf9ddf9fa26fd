// Object preflight: will each program of a BPF object load here, why not, and what to use instead.
//
//   bpfprobe::prober p;
//   auto r = bpfprobe::check(p, "app.bpf.o");                    // or check(p, bytes, "app")
//   auto r = bpfprobe::check(p, skel->obj, skel_elf_bytes, "app"); // a skeleton's object
//   bpfprobe::apply_autoload(skel->obj, std::get<objcheck::object_result>(r));
//
// Static analysis always runs (the prober's lazily cached verdicts); the trial load runs unless
// options::trial is off. The JSON form is documented in docs/check-json.md.
#pragma once

#include <bpfprobe/check/autoload.hpp>
#include <bpfprobe/check/source_lines.hpp>
#include <bpfprobe/check/static.hpp>
#include <bpfprobe/check/taxonomy.hpp>
#include <bpfprobe/check/trial.hpp>
#include <bpfprobe/check/unopenable.hpp>
#include <filesystem>
#include <optional>
#include <span>
#include <variant>

namespace bpfprobe {

namespace objcheck {

// A kernel recorded elsewhere, as a check reads it: BTF (module BTFs split on vmlinux), kallsyms
// names and config. All of it outlives the check.
struct recorded_kernel_view {
  const struct btf* vmlinux = nullptr;
  std::vector<const struct btf*> modules;
  kernel_symbols kallsyms;
  probe::kernel_config config;
};

struct options {
  bool trial = true;                  // load each program alone (never attached)
  std::vector<std::string> programs;  // only these programs (empty: all)
  unsigned threads = 0;               // trial loads at once (0: one per CPU)
  // Check for this recorded kernel instead of the running one (check --target): the prober must
  // answer for it too (probe::options::recorded; check/target.hpp makes both from a snapshot).
  // Nothing is loaded.
  const recorded_kernel_view* target = nullptr;
};

using outcome = std::variant<object_result, std::string>;  // the result, or why the input is bad

namespace detail {

// A sibling program that covers the same hook ("fentry/do_unlinkat" and "kprobe/do_unlinkat"): one that
// loads, and with ATTACHABLE one whose attach is not refused either.
inline std::string sibling_for(const program_result& r, const std::vector<program_result>& all, bool attachable) {
  section_info mine = parse_section(r.section);
  std::string subject = hook_subject(mine);
  if (subject.empty()) return {};
  auto family = [](hook_kind k) {
    switch (k) {
      case hook_kind::fentry:
      case hook_kind::kprobe:
      case hook_kind::kprobe_multi: return 1;
      case hook_kind::fexit:
      case hook_kind::kretprobe: return 2;
      case hook_kind::tp_btf:
      case hook_kind::raw_tp:
      case hook_kind::tracepoint: return 3;
      default: return 0;
    }
  };
  int f = family(mine.kind);
  if (f == 0) return {};
  for (const auto& o : all) {
    if (&o == &r || !o.result.supported() || (attachable && o.attach.state == status::unsupported)) continue;
    section_info s = parse_section(o.section);
    if (family(s.kind) == f && hook_subject(s) == subject) return o.name;
  }
  return {};
}
}  // namespace detail

inline outcome check_image(prober& p, const elf_image& img, const options& opt = {}) {
  std::string object_name = std::filesystem::path(img.path).filename().string();
  if (auto dot = object_name.find('.'); dot != std::string::npos && dot > 0) object_name.resize(dot);
  if (object_name.empty()) object_name = "object";
  // libbpf's messages while opening are this thread's (trial.hpp's capture); other threads' still go
  // to the application's print function.
  LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = object_name.c_str());
  std::string open_msgs;
  bpf_object* obj = nullptr;
  int open_err = 0;
  {
    detail::capture_installed installed;
    detail::capture_to capture(&open_msgs);
    obj = bpf_object__open_mem(img.bytes.data(), img.bytes.size(), &oo);
    open_err = obj ? 0 : errno;
  }
  if (!obj) {
    if (auto res = unopenable(img, open_msgs, open_err); !res.programs.empty()) return res;
    std::string why = sys::errno_name(open_err);
    if (open_err >= 4000) {  // libbpf's own codes (LIBBPF_ERRNO__FORMAT, ...)
      char buf[128];
      libbpf_strerror(open_err, buf, sizeof(buf));
      why = buf;
    }
    return "libbpf cannot open it as a BPF object (" + why + ")";
  }
  struct closer {
    bpf_object* o;
    ~closer() { bpf_object__close(o); }
  } close_obj{obj};

  // Our own copy of vmlinux BTF, kept for the process: the prober's may be another file (--btf) and
  // does not outlive the prober, while the index over it is kept for every later check.
  std::optional<kernel_types> target_types;
  if (opt.target) target_types.emplace(opt.target->vmlinux, opt.target->modules);
  kernel_types& kernel = opt.target ? *target_types : kernel_types_for(process_vmlinux_btf());
  btf::btf_ptr local;
  if (!img.btf.empty()) {
    struct btf* b = btf__new(img.btf.data(), static_cast<__u32>(img.btf.size()));
    if (!b || libbpf_get_error(b)) return std::string(".BTF cannot be parsed");
    local.reset(b);
  }
  object_context oc{p, img, obj, local.get(), kernel};
  if (opt.target) {
    oc.recorded_syms = &opt.target->kallsyms;
    oc.recorded_config = &opt.target->config;
  }
  if (!img.btf_ext.empty()) {
    if (!local) return std::string("has .BTF.ext but no .BTF");
    auto relos = parse_core_relos(img.btf_ext, local.get());
    if (auto* e = std::get_if<std::string>(&relos)) return *e;
    oc.relos = std::move(std::get<std::vector<core_relo>>(relos));
  }
  collect_externs(oc);
  extern_needs(oc);

  object_result res;
  res.path = img.path;
  for (bpf_map* m = bpf_object__next_map(obj, nullptr); m; m = bpf_object__next_map(obj, m)) {
    res.maps.push_back(check_map(oc, m));
    auto f = failure_of_needs(res.maps.back().needs);
    res.maps.back().code = f.code;
    res.maps.back().fix = f.fix;
    if (!res.maps.back().v.supported() && bpf_map__autocreate(m))
      oc.map_needs.push_back({"map/" + res.maps.back().name, res.maps.back().v});
  }
  for (bpf_program* prog = bpf_object__next_program(obj, nullptr); prog; prog = bpf_object__next_program(obj, prog)) {
    std::string name = bpf_program__name(prog);
    program_result r;
    r.name = name;
    r.section = bpf_program__section_name(prog);
    static_program(oc, prog, r);
    r.result = r.static_v;
    auto f = failure_of_needs(r.needs, res.maps);
    r.code = f.code;
    r.fix = f.fix;
    res.programs.push_back(std::move(r));
  }
  // Every program is predicted (siblings need it); only the selected ones are loaded and shown.
  auto selected = [&](const program_result& r) {
    return opt.programs.empty() || std::find(opt.programs.begin(), opt.programs.end(), r.name) != opt.programs.end();
  };
  std::vector<std::optional<std::size_t>> verifier_insn(res.programs.size());
  if (opt.trial && !opt.target && !res.programs.empty()) {
    std::vector<std::string> names;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < res.programs.size(); ++i)
      if (selected(res.programs[i])) {
        names.push_back(res.programs[i].name);
        index.push_back(i);
      }
    auto loads = trial_loads(img.bytes, object_name, names, p.context().lockdown(), opt.threads);
    // The environment the object needs that a private load does not show (pins.hpp): the real pin
    // root must be a bpffs, and a map pinned there must match.
    std::optional<verdict> pin_env;
    failure pin_f;
    for (const auto& m : res.maps)
      for (const auto& n : m.needs)
        if (n.fact.starts_with("pin/") && !n.v.supported() &&
            (!pin_env || severity(n.v.state) > severity(pin_env->state))) {
          pin_env = verdict{n.v.state, "map " + m.name + ": " + n.v.reason, n.v.err, n.v.evidence};
          pin_f = failure_of_need(n);
        }
    for (std::size_t i = 0; i < loads.size(); ++i) {
      auto& r = res.programs[index[i]];
      failure static_f{r.code, r.fix};
      r.trial = loads[i].v;
      r.result = loads[i].v;
      verifier_insn[index[i]] = loads[i].failing_insn;
      r.verifier = r.result.supported() ? "passed" : loads[i].verifier_ran ? "rejected" : "not reached";
      if (!loads[i].pin_note.empty()) r.warnings.push_back(loads[i].pin_note);
      if (r.result.supported() && pin_env) {
        r.warnings.push_back("loaded with its pinned maps in a private bpffs; as shipped: " + pin_env->reason);
        r.result = *pin_env;
        r.trial = r.result;
      }
      // A map the object ships with max_entries 0 fails to be created as shipped; the application
      // sizes it before load, as static prediction says (map_check.hpp).
      for (const auto& m : res.maps)
        if (r.result.state == status::unsupported && m.code == "map-size" && m.v.state == status::unknown &&
            r.result.evidence.find("map '" + m.name + "'") != std::string::npos) {
          r.result = verdict::unknown("map " + m.name + ": max_entries is 0: the application must set it before load",
                                      r.result.err, r.result.evidence);
          r.trial = r.result;
        }
      if (r.placeholder && r.result.state == status::unsupported) {
        // libbpf refuses a load without the target the application sets at run time.
        r.result = verdict::unknown("attach target is set at run time; load refused without it", r.result.err,
                                    r.result.evidence);
        r.trial = r.result;
      }
      auto f = r.result.supported() ? failure{} : failure_of_trial(r.result, static_f);
      if (pin_env && r.result.reason == pin_env->reason) f = pin_f;
      // A load refused for privilege or the machine's policy (EPERM) tells nothing of the kernel;
      // where the static analysis finds that the program cannot load at all, that stands.
      if (r.result.state == status::unknown && r.result.err == EPERM && r.static_v.state == status::unsupported) {
        r.warnings.push_back("trial load refused: " + r.result.reason + "; the static analysis decides");
        r.result = r.static_v;
        f = static_f;
      }
      r.code = f.code;
      r.fix = f.fix;
    }
  }
  line_table lines = line_table::parse(img.btf_ext, local.get());
  std::vector<std::string> better(res.programs.size());
  for (std::size_t i = 0; i < res.programs.size(); ++i)
    if (selected(res.programs[i])) res.programs[i].attach = attach_verdict(oc, res.programs[i], &better[i]);
  for (std::size_t i = 0; i < res.programs.size(); ++i) {
    auto& r = res.programs[i];
    if (!selected(r)) continue;
    // A program that cannot load is covered by a sibling on the same hook that loads; one that loads
    // but cannot be attached here, by a sibling that can also be attached.
    if (!r.result.supported())
      r.instead = detail::sibling_for(r, res.programs, false);
    else if (r.attach.state == status::unsupported)
      r.instead = detail::sibling_for(r, res.programs, true);
    r.source = deciding_source(img, lines, r, verifier_insn[i]);
    if (!r.instead.empty())
      r.instead = "program " + r.instead;
    else if (!better[i].empty() && (!r.attach.supported() || r.attach.reason != "via " + better[i]))
      r.instead = "attach path " + better[i];
  }
  std::erase_if(res.programs, [&](const program_result& r) { return !selected(r); });
  const program_result* worst = nullptr;
  for (auto& r : res.programs)
    if (!worst || severity(r.result.state) > severity(worst->result.state)) worst = &r;
  if (!worst)
    res.v = verdict::yes("no programs");
  else if (worst->result.supported())
    res.v = verdict::yes("every program loads");
  else
    res.v = {worst->result.state, worst->name + ": " + worst->result.reason, worst->result.err, worst->result.evidence};
  return res;
}

inline outcome check_file(prober& p, const std::string& path, const options& opt = {}) {
  auto img = read_elf(path);
  if (auto* e = std::get_if<std::string>(&img)) return *e;
  return check_image(p, std::get<elf_image>(img), opt);
}

inline outcome check_bytes(prober& p, std::span<const char> bytes, const std::string& name, const options& opt = {}) {
  auto img = parse_elf(std::vector<char>(bytes.begin(), bytes.end()), name);
  if (auto* e = std::get_if<std::string>(&img)) return *e;
  return check_image(p, std::get<elf_image>(img), opt);
}

}  // namespace objcheck

// By path, by bytes (a skeleton's embedded object), or for an opened object together with the
// bytes it was opened from (libbpf keeps no copy of the ELF to analyse).
inline objcheck::outcome check(prober& p, const std::string& path, const objcheck::options& opt = {}) {
  return objcheck::check_file(p, path, opt);
}
inline objcheck::outcome check(prober& p, std::span<const char> elf, const std::string& name,
                               const objcheck::options& opt = {}) {
  return objcheck::check_bytes(p, elf, name, opt);
}
inline objcheck::outcome check(prober& p, bpf_object* obj, std::span<const char> elf,
                               const objcheck::options& opt = {}) {
  return objcheck::check_bytes(p, elf, obj ? bpf_object__name(obj) : "object", opt);
}
inline objcheck::outcome check(const std::string& path, const objcheck::options& opt = {}) {
  prober p;
  return objcheck::check_file(p, path, opt);
}

}  // namespace bpfprobe
