// What static prediction knows about a whole object before it looks at one program: the object's
// inputs (maps, externs, CO-RE relocations), the externs the kernel lacks, and how needs combine.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/check/code_scan.hpp>
#include <bpfprobe/check/core.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/check/program_info.hpp>
#include <bpfprobe/check/trampoline_target.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <fstream>
#include <unordered_set>

namespace bpfprobe::objcheck {

// The verdict of a list of needs: unsupported if one is, else unknown if one is, else supported.
inline verdict combine_needs(const std::vector<need>& needs, std::string ok_reason = "loads") {
  if (auto unmet = decide::first_unmet(needs, [](const need& n) { return n.fact; })) return *unmet;
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
  std::optional<kernel_symbols> kallsyms;
  std::optional<error_injection_list> eil;
  std::optional<std::map<std::string, patched_values, std::less<>>> patches;
  // Set when the check answers for a recorded kernel (check --target): its kallsyms names and config
  // stand for this machine's, and nothing of this machine (maps, bpffs, tracefs, debugfs) is asked.
  const kernel_symbols* recorded_syms = nullptr;
  const probe::kernel_config* recorded_config = nullptr;

  [[nodiscard]] bool recorded() const noexcept { return recorded_syms != nullptr; }

  // The constants libbpf's CO-RE relocation writes into the code, for the reachability analysis.
  const std::map<std::string, patched_values, std::less<>>& core_values() {
    if (!patches) {
      core_resolver resolver(btf, kernel);
      patches = core_patches(relos, resolver);
    }
    return *patches;
  }

  const probe::kernel_config& kconfig_values() {
    if (recorded_config) return *recorded_config;
    if (!config) {
      utsname u{};
      uname(&u);
      config = probe::read_kernel_config(u.release);
    }
    return *config;
  }
  const kernel_symbols& kernel_syms() {
    if (recorded_syms) return *recorded_syms;
    if (!kallsyms) kallsyms = kernel_symbols::read_proc();
    return *kallsyms;
  }
  // Whether /proc/kallsyms lists `name`, as libbpf reads it for untyped ksyms and kprobe targets:
  // unknown when the file cannot be read or shows only zero addresses (kptr_restrict, not root).
  verdict kallsyms_has(const std::string& name) {
    const auto& k = kernel_syms();
    if (k.names.contains(name)) return verdict::yes("in /proc/kallsyms", name);
    if (!k.problem.empty()) return verdict::unknown(k.problem);
    return verdict::no(name + " is not in /proc/kallsyms", 0, "/proc/kallsyms");
  }
  const error_injection_list& error_injection() {
    if (!eil) {
      const auto& cfg = kconfig_values();
      auto v = cfg.values.find("CONFIG_FUNCTION_ERROR_INJECTION");
      eil = error_injection_list::of_kernel(v == cfg.values.end() ? std::nullopt : std::optional(v->second),
                                            !cfg.source.empty(), kernel_syms(), /*debugfs=*/!recorded());
    }
    return *eil;
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
  // libbpf resolves an untyped ksym by name in /proc/kallsyms and fails the whole object with ESRCH
  // when a strong one is not there (bpf_object__resolve_externs: "extern '%s' (strong): not resolved").
  for (const auto& x : oc.ksym_untyped)
    if (!oc.weak.contains(x)) {
      verdict v = oc.kallsyms_has(x);
      if (v.state == status::unsupported)
        v = verdict::no("strong untyped ksym extern not in /proc/kallsyms: libbpf fails the object (ESRCH)", 0,
                        "extern " + x);
      add("ksym/" + x, std::move(v));
    }
  for (const auto& x : oc.kconfig) {
    if (x.starts_with("LINUX_") || oc.weak.contains(x)) continue;  // libbpf provides LINUX_*; weak ones are 0
    const auto& cfg = oc.kconfig_values();
    if (cfg.source.empty())
      add("kconfig/" + x, verdict::unknown("no kernel config to read (/boot/config-*, /proc/config.gz)"));
    else if (!cfg.values.contains(x))
      add("kconfig/" + x, verdict::no("strong kconfig extern not set in the kernel config", 0, cfg.source));
  }
}

}  // namespace bpfprobe::objcheck
