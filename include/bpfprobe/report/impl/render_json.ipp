// Definitions for bpfprobe/report/render_json.hpp (inline in the header-only mode, compiled into
// libbpfprobe otherwise), written with report/json_writer.hpp: no document tree.
#include <unistd.h>

#include <bpfprobe/report/json_writer.hpp>
#include <bpfprobe/report/render_json.hpp>
#include <bpfprobe/sys/result.hpp>
#include <optional>
#include <span>

namespace bpfprobe::render::json_detail {

using members = json_writer::member_list;

BPFPROBE_INLINE void write_status(members& m, const verdict& v) {
  m.emplace_back("status", [&v](json_writer& w) { w.string(to_string(v.state)); });
}

BPFPROBE_INLINE void write_fact(json_writer& w, const fact& f) {
  members m;
  m.reserve(16);
  write_status(m, f.v);
  if (!f.v.reason.empty() || !f.v.supported()) m.emplace_back("reason", [&f](json_writer& o) { o.string(f.v.reason); });
  if (f.v.err) m.emplace_back("errno", [&f](json_writer& o) { o.string(sys::errno_name(f.v.err)); });
  if (!f.v.evidence.empty()) m.emplace_back("evidence", [&f](json_writer& o) { o.string(f.v.evidence); });
  if (f.v.value) m.emplace_back("value", [&f](json_writer& o) { o.number(*f.v.value); });
  if (!f.first_kernel.empty()) m.emplace_back("first_kernel", [&f](json_writer& o) { o.string(f.first_kernel); });
  if (!f.commit.empty()) m.emplace_back("commit", [&f](json_writer& o) { o.string(f.commit); });
  for (const auto& kv : f.attrs) m.emplace_back(kv.first, [&v = kv.second](json_writer& o) { o.string(v); });
  for (const auto& kv : f.lists) m.emplace_back(kv.first, [&v = kv.second](json_writer& o) { o.strings(v); });
  w.sorted_object(std::move(m));
}

BPFPROBE_INLINE void write_section(json_writer& w, const section& s) {
  members m;
  m.reserve(s.size());
  for (const auto& f : s) m.emplace_back(f.name, [&f](json_writer& o) { write_fact(o, f); });
  w.sorted_object(std::move(m));
}

// A verdict's errno and evidence, when there are any.
BPFPROBE_INLINE void write_evidence(members& m, const verdict& v) {
  if (v.err) m.emplace_back("errno", [&v](json_writer& o) { o.string(sys::errno_name(v.err)); });
  if (!v.evidence.empty()) m.emplace_back("evidence", [&v](json_writer& o) { o.string(v.evidence); });
}

// "attach": { hook: {"chosen": path|null, "candidates": [{path, status, reason, ...}], <attrs>} }
BPFPROBE_INLINE void write_attach(json_writer& w, const std::vector<attach_choice>& hooks) {
  members m;
  m.reserve(16);
  for (const auto& h : hooks)
    m.emplace_back(h.hook, [&h](json_writer& o) {
      members hm;
      hm.reserve(16);
      hm.emplace_back("chosen", [&h](json_writer& x) { h.chosen.empty() ? x.null() : x.string(h.chosen); });
      hm.emplace_back("candidates", [&h](json_writer& x) {
        x.array([&] {
          for (const auto& c : h.candidates) {
            x.element();
            members cm;
            cm.reserve(16);
            cm.emplace_back("path", [&c](json_writer& y) { y.string(c.path); });
            write_status(cm, c.v);
            cm.emplace_back("reason", [&c](json_writer& y) { y.string(c.v.reason); });
            write_evidence(cm, c.v);
            cm.emplace_back("needs", [&c](json_writer& y) { y.strings(c.needs); });
            x.sorted_object(std::move(cm));
          }
        });
      });
      for (const auto& kv : h.attrs) hm.emplace_back(kv.first, [&v = kv.second](json_writer& x) { x.string(v); });
      o.sorted_object(std::move(hm));
    });
  w.sorted_object(std::move(m));
}

// "compat": { accessor: {"tier": name|"unavailable", "for": prog_type, "tiers": [{tier, status, reason}]} }
BPFPROBE_INLINE void write_compat(json_writer& w, const std::vector<compat_accessor>& accessors) {
  members m;
  m.reserve(16);
  for (const auto& a : accessors)
    m.emplace_back(a.name, [&a](json_writer& o) {
      members am;
      am.reserve(16);
      am.emplace_back("tier", [&a](json_writer& x) { x.string(a.tier); });
      am.emplace_back("for", [&a](json_writer& x) { x.string(a.prog_type); });
      am.emplace_back("tiers", [&a](json_writer& x) {
        x.array([&] {
          for (const auto& tier : a.tiers) {
            x.element();
            members tm;
            tm.reserve(16);
            tm.emplace_back("tier", [&name = tier.first](json_writer& y) { y.string(name); });
            const verdict& v = tier.second;
            write_status(tm, v);
            tm.emplace_back("reason", [&v](json_writer& y) { y.string(v.reason); });
            write_evidence(tm, v);
            x.sorted_object(std::move(tm));
          }
        });
      });
      o.sorted_object(std::move(am));
    });
  w.sorted_object(std::move(m));
}

template <class T>
BPFPROBE_INLINE void write_optional(json_writer& w, const std::optional<T>& v) {
  v ? w.number(*v) : w.null();
}

BPFPROBE_INLINE void write_string_or_null(json_writer& w, const std::string& s) { s.empty() ? w.null() : w.string(s); }

BPFPROBE_INLINE void write_kernel(json_writer& w, const report& r) {
  const auto& k = r.kernel;
  members m;
  m.reserve(16);
  m.emplace_back("release", [&](json_writer& o) { o.string(k.release); });
  m.emplace_back("btf", [&](json_writer& o) { write_string_or_null(o, k.btf); });
  m.emplace_back("names_source", [&](json_writer& o) { o.string(r.names_source); });
  m.emplace_back("names_from_btf", [&](json_writer& o) { o.boolean(r.names_from_btf); });
  m.emplace_back("kfunc_list", [&](json_writer& o) {
    o.object([&] {
      o.key("source"), o.string(r.kfunc_list_source);
      o.key("undecided"), o.number(r.kfuncs_undecided);
      if (r.kfuncs_undecided) o.key("undecided_reason"), o.string(r.kfuncs_undecided_reason);
    });
  });
  m.emplace_back("unprivileged_bpf_disabled", [&](json_writer& o) { write_optional(o, k.unprivileged_bpf_disabled); });
  m.emplace_back("jit", [&](json_writer& o) {
    o.object([&] {
      o.key("enable"), write_optional(o, k.jit_enable);
      o.key("harden"), write_optional(o, k.jit_harden);
      o.key("kallsyms"), write_optional(o, k.jit_kallsyms);
      o.key("limit"), write_optional(o, k.jit_limit);
    });
  });
  m.emplace_back("lockdown", [&](json_writer& o) { write_string_or_null(o, k.lockdown); });
  m.emplace_back("config_source", [&](json_writer& o) { write_string_or_null(o, k.config_source); });
  m.emplace_back("euid", [](json_writer& o) { o.number(static_cast<int>(geteuid())); });
  w.sorted_object(std::move(m));
}

BPFPROBE_INLINE void write_report(json_writer& w, const report& r) {
  members m;
  m.reserve(16);
  m.emplace_back("kernel", [&](json_writer& o) { write_kernel(o, r); });
  m.emplace_back("program_types", [&](json_writer& o) { write_section(o, r.program_types); });
  m.emplace_back("map_types", [&](json_writer& o) { write_section(o, r.map_types); });
  m.emplace_back("helpers", [&](json_writer& o) {
    members hm;
    hm.reserve(16);
    for (const auto& ts : r.helpers)
      hm.emplace_back(ts.first, [&s = ts.second](json_writer& x) { write_section(x, s); });
    o.sorted_object(std::move(hm));
  });
  m.emplace_back("misc", [&](json_writer& o) { write_section(o, r.misc); });
  m.emplace_back("config", [&](json_writer& o) { write_section(o, r.config); });
  for (const auto& ns : r.more) m.emplace_back(ns.first, [&s = ns.second](json_writer& o) { write_section(o, s); });
  if (!r.compat.empty()) m.emplace_back("compat", [&](json_writer& o) { write_compat(o, r.compat); });
  if (!r.attach.empty()) m.emplace_back("attach", [&](json_writer& o) { write_attach(o, r.attach); });
  w.sorted_object(std::move(m));
}

// The shape of `bpftool -j feature probe kernel`: same sections and keys, in bpftool's order.
// bpftool answers true/false; a fact bpfprobe could not decide (unknown) is null here, never false,
// and is left out of the helper lists.

BPFPROBE_INLINE void write_decided(json_writer& w, const fact* f) {
  if (!f || f->v.state == status::unknown) return w.null();
  w.boolean(f->v.supported());
}

// bpftool's misc key -> bpfprobe's misc fact.
inline constexpr std::pair<const char*, const char*> bpftool_misc[] = {{"have_large_insn_limit", "large_insn_limit"},
                                                                       {"have_bounded_loops", "bounded_loops"},
                                                                       {"have_v2_isa_extension", "isa_v2"},
                                                                       {"have_v3_isa_extension", "isa_v3"},
                                                                       {"have_v4_isa_extension", "isa_v4"}};

BPFPROBE_INLINE void write_bpftool(json_writer& w, const report& r) {
  w.object([&] {
    w.key("system_config");
    w.object([&] {
      w.key("unprivileged_bpf_disabled"), write_optional(w, r.kernel.unprivileged_bpf_disabled);
      w.key("bpf_jit_enable"), write_optional(w, r.kernel.jit_enable);
      w.key("bpf_jit_harden"), write_optional(w, r.kernel.jit_harden);
      w.key("bpf_jit_kallsyms"), write_optional(w, r.kernel.jit_kallsyms);
      w.key("bpf_jit_limit"), write_optional(w, r.kernel.jit_limit);
      for (const char* option : std::span(probe::config_options, probe::bpftool_config_options)) {
        auto it = r.config_values.values.find(option);
        w.key(option);
        it == r.config_values.values.end() ? w.null() : w.string(it->second);
      }
    });
    // bpf(2) answered if any program type was decided either way.
    bool answered = false;
    for (const auto& f : r.program_types) answered = answered || f.v.state != status::unknown;
    w.key("syscall_config");
    w.object([&] { w.key("have_bpf_syscall"), w.boolean(answered); });
    w.key("program_types");
    w.object([&] {
      for (const auto& f : r.program_types)
        if (f.name != "unspec") w.key("have_" + f.name + "_prog_type"), write_decided(w, &f);
    });
    w.key("map_types");
    w.object([&] {
      for (const auto& f : r.map_types)
        if (f.name != "unspec") w.key("have_" + f.name + "_map_type"), write_decided(w, &f);
    });
    w.key("helpers");
    w.object([&] {
      for (const auto& [type, section] : r.helpers) {
        w.key(type + "_available_helpers");
        w.array([&w, &s = section] {
          for (const auto& f : s)
            if (f.v.supported()) w.element(), w.string(f.name);
        });
      }
    });
    w.key("misc");
    w.object([&] {
      for (auto [key, name] : bpftool_misc)
        if (const fact* f = find_fact(r.misc, name)) w.key(key), write_decided(w, f);
    });
  });
}

}  // namespace bpfprobe::render::json_detail

namespace bpfprobe::render {

// Invalid UTF-8 (a path given by the user) becomes U+FFFD rather than failing the report.
BPFPROBE_INLINE std::string json(const report& r, int indent) {
  json_writer w(indent);
  json_detail::write_report(w, r);
  return std::move(w).take();
}

BPFPROBE_INLINE std::string bpftool_json(const report& r, int indent) {
  json_writer w(indent);
  json_detail::write_bpftool(w, r);
  return std::move(w).take();
}

}  // namespace bpfprobe::render
