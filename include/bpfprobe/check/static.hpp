// Static prediction: will a program load here, decided from the object alone and the prober's
// verdicts (each queried lazily, so a check probes only the facts its programs need). Whatever
// cannot be decided soundly is unknown with the reason, never a guess.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/check/code_scan.hpp>
#include <bpfprobe/check/core.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/check/program_info.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <bpfprobe/probe/prober.hpp>
#include <fstream>
#include <unordered_set>

namespace bpfprobe::objcheck {

// The verdict of a list of needs: unsupported if one is, else unknown if one is, else supported.
inline verdict combine_needs(const std::vector<need>& needs, std::string ok_reason = "loads") {
  const need* unknown = nullptr;
  for (const auto& n : needs) {
    if (n.v.state == status::unsupported) {
      verdict v = n.v;
      v.reason = n.fact + ": " + (n.v.reason.empty() ? "unsupported" : n.v.reason);
      return v;
    }
    if (n.v.state == status::unknown && !unknown) unknown = &n;
  }
  if (unknown) {
    verdict v = unknown->v;
    v.reason = unknown->fact + ": " + (unknown->v.reason.empty() ? "unknown" : unknown->v.reason);
    return v;
  }
  return verdict::yes(std::move(ok_reason));
}

// Program types whose helpers and kfuncs depend on the attach type (the prober asks with one
// attach type); an "unsupported" for them is only as good as that attach type, so it becomes unknown.
inline bool attach_dependent(std::string_view prog_type) {
  return prog_type == "tracing" || prog_type == "lsm" || prog_type == "ext" || prog_type == "struct_ops" ||
         prog_type.starts_with("cgroup_") || prog_type == "sk_lookup" || prog_type == "netfilter";
}

// The object-wide inputs of static analysis, computed once.
struct object_context {
  prober& p;
  const elf_image& img;
  bpf_object* obj;
  const struct btf* btf;  // the object's .BTF as compiled; null when it has none
  kernel_types& kernel;
  std::vector<core_relo> relos;
  std::unordered_set<std::string> weak;          // weak extern symbols
  std::unordered_set<std::string> kconfig;       // externs in .kconfig
  std::unordered_set<std::string> ksym_funcs;    // .ksyms externs that are functions
  std::unordered_set<std::string> ksym_typed;    // .ksyms variables with a type
  std::unordered_set<std::string> ksym_untyped;  // .ksyms variables without one (found in kallsyms)
  // A map the kernel cannot create or a strong extern it lacks fails every program: libbpf creates
  // all maps and resolves all externs of the object whatever the programs' autoload.
  std::vector<need> map_needs;
  std::optional<probe::kernel_config> config;
  std::optional<std::unordered_set<std::string>> kallsyms;
  std::optional<std::map<std::string, patched_values, std::less<>>> patches;

  // The constants libbpf's CO-RE relocation writes into the code, for the reachability analysis.
  const std::map<std::string, patched_values, std::less<>>& core_values() {
    if (!patches) {
      core_resolver resolver(btf, kernel);
      patches = core_patches(relos, resolver);
    }
    return *patches;
  }

  const probe::kernel_config& kconfig_values() {
    if (!config) {
      utsname u{};
      uname(&u);
      config = probe::read_kernel_config(u.release);
    }
    return *config;
  }
  bool in_kallsyms(const std::string& name) {
    if (!kallsyms) {
      kallsyms.emplace();
      std::ifstream in("/proc/kallsyms");
      std::string addr, type, sym;
      while (in >> addr >> type >> sym) {
        kallsyms->insert(sym);
        in.ignore(4096, '\n');
      }
    }
    return kallsyms->contains(name);
  }
};

inline void collect_externs(object_context& oc) {
  for (const auto& s : oc.img.symbols)
    if (s.section == SHN_UNDEF && s.bind == STB_WEAK) oc.weak.insert(s.name);
  const struct btf* b = oc.btf;
  if (!b) return;
  for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_datasec(t)) continue;
    std::string_view sec = btf__name_by_offset(b, t->name_off);
    if (sec != ".kconfig" && sec != ".ksyms") continue;
    const btf_var_secinfo* v = btf_var_secinfos(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++v) {
      const btf_type* vt = btf__type_by_id(b, v->type);
      if (!vt) continue;
      std::string name = btf__name_by_offset(b, vt->name_off);
      if (sec == ".kconfig") {
        oc.kconfig.insert(name);
      } else if (btf_is_func(vt)) {
        oc.ksym_funcs.insert(name);
      } else if (btf_is_var(vt)) {
        const btf_type* ty = btf__type_by_id(b, vt->type);
        while (ty && (btf_is_mod(ty) || btf_is_typedef(ty))) ty = btf__type_by_id(b, ty->type);
        if (ty && btf_kind(ty) != BTF_KIND_UNKN)
          oc.ksym_typed.insert(name);
        else
          oc.ksym_untyped.insert(name);
      }
    }
  }
}

// The object's strong externs that the kernel (or its config) lacks.
inline void extern_needs(object_context& oc) {
  auto add = [&](std::string fact, verdict v) {
    if (!v.supported()) oc.map_needs.push_back({std::move(fact), std::move(v)});
  };
  bool btf = oc.kernel.available();
  for (const auto& k : oc.ksym_funcs) {
    if (oc.weak.contains(k)) continue;
    if (!btf)
      add("kfunc/" + k, verdict::unknown("no kernel BTF to find kfuncs in"));
    else if (!oc.kernel.has(k, BTF_KIND_FUNC))
      add("kfunc/" + k, verdict::no("strong kfunc extern not in kernel or module BTF", 0, "extern " + k));
  }
  for (const auto& x : oc.ksym_typed)
    if (!oc.weak.contains(x)) {
      if (!btf)
        add("ksym/" + x, verdict::unknown("no kernel BTF to find ksyms in"));
      else if (!oc.kernel.has(x, BTF_KIND_VAR))
        add("ksym/" + x, verdict::no("strong ksym extern not in kernel BTF", 0, "extern " + x));
    }
  for (const auto& x : oc.ksym_untyped)
    if (!oc.weak.contains(x) && !oc.in_kallsyms(x))
      add("ksym/" + x, verdict::unknown("strong ksym extern not found in /proc/kallsyms (hidden or missing)"));
  for (const auto& x : oc.kconfig) {
    if (x.starts_with("LINUX_") || oc.weak.contains(x)) continue;  // libbpf provides LINUX_*; weak ones are 0
    const auto& cfg = oc.kconfig_values();
    if (cfg.source.empty())
      add("kconfig/" + x, verdict::unknown("no kernel config to read (/boot/config-*, /proc/config.gz)"));
    else if (!cfg.values.contains(x))
      add("kconfig/" + x, verdict::no("strong kconfig extern not set in the kernel config", 0, cfg.source));
  }
}

inline const char* map_flag_fact(std::uint32_t bit) {
  switch (bit) {
    case BPF_F_NO_PREALLOC: return "map_flag_no_prealloc";
    case BPF_F_MMAPABLE: return "map_flag_mmapable";
    case BPF_F_RDONLY_PROG: return "map_flag_rdonly_prog";
    case BPF_F_WRONLY_PROG: return "map_flag_wronly_prog";
    case BPF_F_INNER_MAP: return "map_flag_inner_map";
    default: return nullptr;
  }
}

// libbpf fails a struct_ops map whose non-zero member the kernel's struct lacks; the object's
// section data (which members are set) is not read here, so a missing member is unknown.
inline verdict struct_ops_members(const struct btf* local, const btf_type* t, const type_ref& kern) {
  if (!local || !t || !btf_is_composite(t)) return verdict::unknown("struct_ops value type not in the object's BTF");
  const btf_type* kt = kern.type();
  const btf_member* m = btf_members(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
    std::string_view n = btf__name_by_offset(local, m->name_off);
    if (n.empty()) continue;
    bool found = false;
    const btf_member* km = btf_members(kt);
    for (unsigned j = 0; j < btf_vlen(kt) && !found; ++j, ++km)
      found = n == btf__name_by_offset(kern.btf, km->name_off);
    if (!found)
      return verdict::unknown("member " + std::string(n) +
                              " is not in the kernel's struct (fails when the object sets it)");
  }
  return verdict::yes("in kernel BTF, every member known");
}

inline map_result check_map(object_context& oc, const bpf_map* m) {
  map_result r;
  r.name = bpf_map__name(m);
  auto type = bpf_map__type(m);
  const char* tn = libbpf_bpf_map_type_str(type);
  r.type = tn ? tn : "type " + std::to_string(type);
  r.flags = bpf_map__map_flags(m);
  if (bpf_map__is_internal(m)) {
    // .data/.rodata/.bss/.kconfig: libbpf adds mmapable/read-only flags only where supported.
    r.needs.push_back({"misc/global_data", oc.p.misc("global_data")});
  } else {
    r.needs.push_back(
        {"map_type/" + r.type, tn ? oc.p.map_type(tn) : verdict::no("map type unknown to libbpf and this kernel")});
    // Sizes the application sets before loading: libbpf creates the map as the object has it.
    std::uint32_t max = bpf_map__max_entries(m);
    bool sized_by_libbpf = type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
    bool no_entries = type == BPF_MAP_TYPE_SK_STORAGE || type == BPF_MAP_TYPE_INODE_STORAGE ||
                      type == BPF_MAP_TYPE_TASK_STORAGE || type == BPF_MAP_TYPE_CGRP_STORAGE ||
                      type == BPF_MAP_TYPE_CGROUP_STORAGE || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE ||
                      type == BPF_MAP_TYPE_STRUCT_OPS;
    if (max == 0 && !sized_by_libbpf && !no_entries)
      r.needs.push_back({"max_entries", verdict::no("max_entries is 0 (the application must set it before loading)")});
    long page = sysconf(_SC_PAGESIZE);
    if ((type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF) && max &&
        ((max & (max - 1)) || page <= 0 || max % static_cast<std::uint32_t>(page)))
      r.needs.push_back(
          {"max_entries", verdict::no("ring buffer size " + std::to_string(max) + " is not a power of 2 of pages")});
    for (std::uint32_t bit = 1; bit; bit <<= 1)
      if (r.flags & bit)
        if (const char* f = map_flag_fact(bit)) r.needs.push_back({std::string("misc/") + f, oc.p.misc(f)});
    if (const bpf_map* inner = bpf_map__inner_map(const_cast<bpf_map*>(m))) {
      const char* in = libbpf_bpf_map_type_str(bpf_map__type(inner));
      if (in) r.needs.push_back({std::string("map_type/") + in + " (inner)", oc.p.map_type(in)});
    }
    if (type == BPF_MAP_TYPE_STRUCT_OPS) {
      const struct btf* b = oc.btf;
      const btf_type* vt = b ? btf__type_by_id(b, bpf_map__btf_value_type_id(m)) : nullptr;
      std::string name = vt ? btf__name_by_offset(b, vt->name_off) : "";
      name = std::string(essential(name));
      auto kern = oc.kernel.find(name, BTF_KIND_STRUCT);
      if (!oc.kernel.available())
        r.needs.push_back({"struct_ops/" + name, verdict::unknown("no kernel BTF")});
      else if (!oc.kernel.has("bpf_struct_ops_" + name, BTF_KIND_STRUCT) || kern.empty())
        r.needs.push_back({"struct_ops/" + name, verdict::no("the kernel has no struct_ops type " + name)});
      else
        r.needs.push_back({"struct_ops/" + name, struct_ops_members(b, vt, kern.front())});
    }
  }
  r.v = combine_needs(r.needs, "can be created");
  return r;
}

// A BTF type the kernel must have for the program's attach target.
inline verdict btf_target(object_context& oc, const std::string& name, int kind, const std::string& what) {
  if (!oc.kernel.available()) return verdict::unknown("no kernel BTF to find " + what + " in");
  if (oc.kernel.has(name, kind)) return verdict::yes("in kernel BTF", name);
  return verdict::no("the kernel has no " + what, 0, "no " + name + " in vmlinux or module BTF");
}

// What the prober's helper probe cannot see, since it calls the helper from one attach type of a
// non-sleepable program: the verifier's checks on the calling program itself.
inline verdict call_site_rules(const program_result& r, const section_info& sec, std::string_view helper,
                               const verdict& v) {
  bool sleepable = sec.sleepable || r.prog_type == "syscall";
  // Helpers that may fault in user memory: "helper call might sleep in a non-sleepable prog" (5.10).
  if (!sleepable && (helper == "bpf_copy_from_user" || helper == "bpf_copy_from_user_task" ||
                     helper == "bpf_ima_inode_hash" || helper == "bpf_ima_file_hash"))
    return verdict::no("helper may sleep: only sleepable programs (SEC(\"*.s/...\")) may call it");
  // bpf_get_func_ip: kprobes (5.15) and fentry/fexit/fmod_ret (5.15) only (check_get_func_ip).
  if (helper == "bpf_get_func_ip") {
    bool trampoline = sec.kind == hook_kind::fentry || sec.kind == hook_kind::fexit || sec.kind == hook_kind::fmod_ret;
    if (r.prog_type != "kprobe" && !(r.prog_type == "tracing" && trampoline))
      return verdict::no("bpf_get_func_ip is only for kprobe and fentry/fexit/fmod_ret programs");
  }
  return v;
}

inline void static_program(object_context& oc, bpf_program* prog, program_result& r) {
  auto& p = oc.p;
  auto& needs = r.needs;
  section_info sec = parse_section(r.section);
  r.target = sec.target;
  auto type = bpf_program__type(prog);
  const char* tn = libbpf_bpf_prog_type_str(type);
  r.prog_type = tn ? tn : "";
  if (type == BPF_PROG_TYPE_UNSPEC || !tn) {
    needs.push_back({"section", verdict::no("libbpf does not know this section name")});
    r.static_v = combine_needs(needs);
    return;
  }
  needs.push_back({"prog_type/" + r.prog_type, p.prog_type(r.prog_type)});
  // Expected attach type: the kernel must define it (bpf_prog_load_check_attach).
  auto at = bpf_program__expected_attach_type(prog);
  const char* atn = libbpf_bpf_attach_type_str(at);
  bool uses_attach = at != 0 || r.prog_type == "cgroup_skb" || r.prog_type == "cgroup_sock" ||
                     r.prog_type == "cgroup_sock_addr" || r.prog_type == "cgroup_sockopt";
  if (uses_attach && atn) {
    r.attach_type = atn;
    if (!p.context().attach_type(atn))
      needs.push_back({"attach_type/" + r.attach_type, verdict::no("kernel does not define this attach type")});
  }
  // Trampoline programs: the prober's load-and-attach of the same kind.
  const char* tracing_variant = sec.kind == hook_kind::fentry                                ? "trace_fentry"
                                : sec.kind == hook_kind::fexit                               ? "trace_fexit"
                                : sec.kind == hook_kind::fmod_ret                            ? "modify_return"
                                : (sec.kind == hook_kind::lsm && r.attach_type == "lsm_mac") ? "lsm_mac"
                                                                                             : nullptr;
  bool placeholder = sec.target_needed_at_load && (sec.target.empty() || sec.kind == hook_kind::freplace);
  if (tracing_variant && !placeholder)
    needs.push_back({std::string("link/tracing/") + tracing_variant, p.link_attach_type("tracing", tracing_variant)});
  if (r.attach_type == "lsm_cgroup" && !placeholder)  // a trampoline too (6.0)
    needs.push_back({"link/cgroup/lsm_cgroup", p.link_attach_type("cgroup", "lsm_cgroup")});
  if (sec.sleepable) {
    needs.push_back({"misc/sleepable", p.misc("sleepable")});
    if (r.prog_type == "kprobe")  // sleepable uprobes came in 6.2; misc/sleepable proves only the flag
      needs.push_back({"sleepable_uprobe", verdict::unknown("sleepable uprobes (6.2) are not probed")});
    if (r.prog_type == "tracing" || r.prog_type == "lsm")
      needs.push_back({"sleepable_target", verdict::unknown("the kernel's sleepable allow-list is not checked "
                                                            "statically")});
  }
  // Targets libbpf resolves in kernel BTF when loading.
  std::string subject = hook_subject(sec);
  if (sec.target_needed_at_load) {
    if (sec.target.empty() || sec.kind == hook_kind::freplace) {
      r.placeholder = true;
      needs.push_back({"target", verdict::unknown(sec.kind == hook_kind::freplace
                                                      ? "freplace needs a target program chosen at run time"
                                                      : "attach target is set at run time (section without a name)")});
    } else if (sec.kind == hook_kind::tp_btf) {
      needs.push_back({"target/btf_trace_" + subject,
                       btf_target(oc, "btf_trace_" + subject, BTF_KIND_TYPEDEF, "tracepoint " + subject)});
    } else if (sec.kind == hook_kind::iter) {
      needs.push_back(
          {"target/bpf_iter_" + subject, btf_target(oc, "bpf_iter_" + subject, BTF_KIND_FUNC, "iterator " + subject)});
    } else if (sec.kind == hook_kind::lsm) {
      needs.push_back(
          {"target/bpf_lsm_" + subject, btf_target(oc, "bpf_lsm_" + subject, BTF_KIND_FUNC, "LSM hook " + subject)});
    } else {
      needs.push_back({"target/" + subject, btf_target(oc, subject, BTF_KIND_FUNC, "function " + subject)});
    }
  }

  code_facts code = scan_program(oc.img, r.section, r.name, &oc.core_values());
  if (!code.error.empty()) needs.push_back({"code", verdict::unknown("instructions not understood: " + code.error)});
  const auto& helpers = p.context().enums().helpers;
  for (std::int32_t id : code.helpers) {
    const btf::entry* e = nullptr;
    for (const auto& h : helpers)
      if (h.value == id) e = &h;
    if (!e) {
      needs.push_back(
          {"helper/" + std::to_string(id), verdict::no("helper #" + std::to_string(id) + " unknown to this kernel")});
      continue;
    }
    verdict v = p.helper(r.prog_type, e->name);
    if (v.supported()) v = call_site_rules(r, sec, e->name, v);
    // The prober asks for tracing helpers with a tp_btf program; bpf_seq_* are for iterators (5.8).
    if (r.attach_type == "trace_iter" && e->name.starts_with("bpf_seq_"))
      v = verdict::yes("offered to iterator programs");
    if (v.state == status::unsupported && attach_dependent(r.prog_type) && p.prog_type(r.prog_type).supported())
      v = verdict::unknown("not offered to " + r.prog_type +
                               " programs of the attach type probed; may depend on "
                               "this program's attach type",
                           0, v.evidence);
    needs.push_back({"helper/" + r.prog_type + "/" + e->name, std::move(v)});
  }
  for (const auto& k : code.kfunc_calls) {
    if (!oc.kernel.available() || !oc.kernel.has(k, BTF_KIND_FUNC)) {
      // A missing strong extern fails the whole object (extern_needs); a weak one is left out.
      if (oc.weak.contains(k)) {
        r.warnings.push_back("weak kfunc " + k + " is missing: its calls must be guarded by bpf_ksym_exists()");
        needs.push_back({"kfunc/" + k, verdict::yes("weak extern, missing: libbpf leaves the guarded call out")});
      }
      continue;
    }
    verdict v = p.kfunc(k, r.prog_type);
    if (v.state == status::unsupported && attach_dependent(r.prog_type) && p.prog_type(r.prog_type).supported())
      v = verdict::unknown("not allowed for the attach type probed; may depend on this program's attach type", 0,
                           v.evidence);
    needs.push_back({"kfunc/" + k + "/" + r.prog_type, std::move(v)});
  }
  // A typed ksym's address comes from kallsyms when the verifier sees it (check_pseudo_btf_id):
  // without CONFIG_KALLSYMS_ALL a variable in BTF may still be missing there.
  for (const auto& x : code.ld_externs)
    if (oc.ksym_typed.contains(x) && !oc.weak.contains(x) && oc.kernel.has(x, BTF_KIND_VAR))
      needs.push_back({"ksym/" + x, oc.in_kallsyms(x) ? verdict::yes("in kernel BTF and /proc/kallsyms")
                                                      : verdict::no("in kernel BTF but not in /proc/kallsyms")});
  if (code.jmp_v2) needs.push_back({"misc/isa_v2", p.misc("isa_v2")});
  if (code.jmp32) needs.push_back({"misc/isa_v3", p.misc("isa_v3")});
  if (code.isa_v4) needs.push_back({"misc/isa_v4", p.misc("isa_v4")});
  if (code.may_goto)
    needs.push_back({"may_goto", verdict::unknown("may_goto (6.9) is not probed; the verifier decides")});
  if (code.back_edge) needs.push_back({"misc/bounded_loops", p.misc("bounded_loops")});
  if (code.insns > 4096) needs.push_back({"misc/large_insn_limit", p.misc("large_insn_limit")});

  // CO-RE relocations of the program's functions.
  if (!oc.relos.empty()) {
    core_resolver resolver(oc.btf, oc.kernel);
    std::vector<std::pair<const core_relo*, core_outcome>> mine;
    for (const auto& rel : oc.relos)
      for (const auto& [secname, b, e] : code.ranges)
        if (rel.section == secname && rel.insn_off / sizeof(bpf_insn) >= b && rel.insn_off / sizeof(bpf_insn) < e &&
            !code.dead.contains({rel.section, rel.insn_off / sizeof(bpf_insn)}))
          mine.emplace_back(&rel, resolver.resolve(rel));
    std::set<std::string> guarded_roots;
    for (const auto& [rel, o] : mine)
      if (is_existence(rel->kind)) guarded_roots.insert(o.root);
    // The verifier drops branches it proves dead: an existence test of another type, or a kconfig
    // value, may guard the unresolved access too. Then it is unknown, not unsupported.
    bool maybe_guarded = !guarded_roots.empty();
    for (const auto& x : code.ld_externs) maybe_guarded |= oc.kconfig.contains(x);
    std::set<std::string> reported;
    std::size_t resolved = 0;
    for (const auto& [rel, o] : mine) {
      if (is_existence(rel->kind)) continue;
      if (o.resolved) {
        ++resolved;
        continue;
      }
      std::string key = "core/" + (o.what.empty() ? o.root : o.what);
      if (!reported.insert(key).second) continue;
      if (!o.decided)
        needs.push_back({key, verdict::unknown("CO-RE relocation not resolved here: " + o.reason)});
      else if (guarded_roots.contains(o.root))
        needs.push_back({key, verdict::yes("unresolved, but the program tests " + o.root +
                                           " with bpf_core_*_exists: taken as guarded")});
      else if (maybe_guarded)
        needs.push_back({key, verdict::unknown("CO-RE relocation cannot resolve (" + o.reason +
                                               "); the program may guard it with a test the verifier settles")});
      else
        needs.push_back({key, verdict::no("CO-RE relocation cannot resolve: " + o.reason)});
    }
    if (resolved)
      needs.push_back({"core", verdict::yes(std::to_string(resolved) + " CO-RE relocations resolve in kernel BTF")});
  }
  for (const auto& m : oc.map_needs) needs.push_back(m);
  r.static_v = combine_needs(needs);
}

// Whether the program can then be attached by its own section's path (the decide/ candidates that
// apply to its type), and in `better` the path decide/ picks for the hook overall.
inline verdict attach_verdict(object_context& oc, const program_result& r, std::string* better) {
  section_info sec = parse_section(r.section);
  auto facts = decide::from(oc.p);
  std::optional<decide::choice> c;
  std::vector<std::string_view> own;  // the candidates this program can use; empty: all
  switch (sec.kind) {
    case hook_kind::kprobe:
    case hook_kind::kretprobe:
      c = decide::kprobe(facts, sec.kind == hook_kind::kretprobe);
      own = {decide::path::perf_link, decide::path::perf_ioctl};
      break;
    case hook_kind::kprobe_multi:
      c = decide::kprobe(facts);
      own = {decide::path::kprobe_multi};
      break;
    case hook_kind::uprobe:
      c = decide::uprobe(facts, r.section.find("ret") != std::string::npos);
      if (r.section.find(".multi") != std::string::npos)
        own = {decide::path::uprobe_multi};
      else
        own = {decide::path::perf_link, decide::path::perf_ioctl};
      break;
    case hook_kind::tracepoint:
      c = decide::tracepoint(facts);
      own = {decide::path::perf_link, decide::path::perf_ioctl};
      break;
    case hook_kind::raw_tp:
      c = decide::tracepoint(facts);
      own = {decide::path::raw_tp};
      break;
    case hook_kind::tp_btf:
      c = decide::tracepoint(facts);
      own = {decide::path::tp_btf};
      break;
    default:
      if (r.prog_type == "xdp")
        c = decide::xdp(facts);
      else if (r.prog_type == "sched_cls" && r.section.starts_with("tc"))
        c = decide::tc(facts);
      break;
  }
  if (!c) return verdict::unknown("attach not checked for this program type");
  if (better) *better = c->chosen;
  const decide::candidate* unknown = nullptr;
  const decide::candidate* chosen = nullptr;
  for (const auto& cand : c->candidates) {
    if (!own.empty() && std::find(own.begin(), own.end(), cand.path) == own.end()) continue;
    if (cand.v.supported()) {
      chosen = &cand;
      break;
    }
    if (cand.v.state == status::unknown && !unknown) unknown = &cand;
  }
  if (!chosen) {
    if (unknown) return verdict::unknown(unknown->path + ": " + unknown->v.reason);
    return verdict::no("no attach path for this " + c->hook + " program on this kernel");
  }
  // A function in BTF is in the kernel; only one that is not (static, renamed) costs a kallsyms read.
  if ((sec.kind == hook_kind::kprobe || sec.kind == hook_kind::kretprobe) && !sec.target.empty() &&
      !r.section.starts_with("ksyscall") && !r.section.starts_with("kretsyscall") &&
      !oc.kernel.has(hook_subject(sec), BTF_KIND_FUNC) && !oc.in_kallsyms(hook_subject(sec)))
    return verdict::no("kprobe target " + hook_subject(sec) + " is not in /proc/kallsyms");
  if (sec.kind == hook_kind::tracepoint && sec.target.find('/') != std::string::npos) {
    for (const char* fs : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
      if (access((std::string(fs) + "/events").c_str(), F_OK) != 0) continue;
      if (access((std::string(fs) + "/events/" + sec.target).c_str(), F_OK) != 0)
        return verdict::no("tracepoint " + sec.target + " is not in " + fs + "/events");
      break;
    }
  }
  if (sec.kind == hook_kind::raw_tp && !sec.target.empty() && oc.kernel.available() &&
      !oc.kernel.has("btf_trace_" + sec.target, BTF_KIND_TYPEDEF))
    return verdict::no("raw tracepoint " + sec.target + " is not in kernel BTF (btf_trace_" + sec.target + ")");
  return verdict::yes("via " + chosen->path);
}

}  // namespace bpfprobe::objcheck
