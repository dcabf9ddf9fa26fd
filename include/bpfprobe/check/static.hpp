// Static prediction: will a program load here, decided from the object alone and the prober's
// verdicts (each queried lazily, so a check probes only the facts its programs need). Whatever
// cannot be decided soundly is unknown with the reason, never a guess.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/check/code_scan.hpp>
#include <bpfprobe/check/core.hpp>
#include <bpfprobe/check/extern_values.hpp>
#include <bpfprobe/check/map_args.hpp>
#include <bpfprobe/check/map_check.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/check/object_context.hpp>
#include <bpfprobe/check/program_info.hpp>
#include <bpfprobe/check/struct_ops_refs.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace bpfprobe::objcheck {

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

// What the verifier checks of a trampoline target that BTF has (bpf_check_attach_target): its
// address, and for a sleepable program (before fmod_ret's own check) the error-injection list.
inline void trampoline_target_needs(object_context& oc, const section_info& sec, const std::string& function,
                                    std::vector<need>& needs) {
  if (!oc.kernel.available() || !oc.kernel.has(function, BTF_KIND_FUNC)) return;  // the BTF need decides
  needs.push_back({"target_address/" + function, target_address(oc.kernel_syms(), function)});
  if (sec.kind == hook_kind::lsm) return;
  if (sec.sleepable)
    needs.push_back(
        {"sleepable_target/" + function, sleepable_tracing_target(oc.kernel, oc.error_injection(), function)});
  else if (sec.kind == hook_kind::fmod_ret)
    needs.push_back({"modify_return/" + function, modify_return_target(oc.kernel, oc.error_injection(), function)});
}

// The prober's own attach of the kind a fentry/fexit/fmod_ret/lsm/lsm_cgroup program needs: a
// trampoline link, as link_attach_type("tracing", "trace_fentry") and so on; nothing for other programs.
struct trampoline_link {
  std::string_view link_type, attach;
  std::string key() const { return "link/" + std::string(link_type) + "/" + std::string(attach); }
};

inline std::optional<trampoline_link> trampoline_link_of(const section_info& sec, const program_result& r) {
  switch (sec.kind) {
    case hook_kind::fentry: return trampoline_link{"tracing", "trace_fentry"};
    case hook_kind::fexit: return trampoline_link{"tracing", "trace_fexit"};
    case hook_kind::fmod_ret: return trampoline_link{"tracing", "modify_return"};
    case hook_kind::lsm:
      if (r.attach_type == "lsm_mac") return trampoline_link{"tracing", "lsm_mac"};
      if (r.attach_type == "lsm_cgroup") return trampoline_link{"cgroup", "lsm_cgroup"};
      return std::nullopt;
    default: return std::nullopt;
  }
}

// The prober's trampoline attach failed while loading its test program (lockdown's EPERM, a refusal
// of the program type) rather than at the attach: the object's program will not load either.
inline bool failed_at_load(const verdict& v) { return !v.supported() && v.reason.starts_with("test program ("); }

inline void static_program(object_context& oc, bpf_program* prog, program_result& r) {
  auto& p = oc.p;
  auto& needs = r.needs;
  section_info sec = parse_section(r.section);
  r.target = sec.target;
  auto type = bpf_program__type(prog);
  const char* tn = libbpf_bpf_prog_type_str(type);
  r.prog_type = tn ? tn : "";
  if (type == BPF_PROG_TYPE_UNSPEC || !tn) {
    // libbpf 1.4 opens it with no type and refuses the load ("missing BPF prog type"), unless the
    // application sets the type first (bpf_program__set_type): not decidable from the object.
    needs.push_back({"section", verdict::unknown("libbpf does not know this section name: the application must set "
                                                 "the program type before load")});
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
  // Trampoline programs load where the kernel cannot attach them (arm64 before 6.0 has no trampoline,
  // before 6.4 none on a kernel function): the prober's trampoline attach is their `attach` verdict
  // (attach_verdict), and a load need only where its test program did not load.
  bool placeholder = sec.target_needed_at_load && (sec.target.empty() || sec.kind == hook_kind::freplace);
  if (auto link = trampoline_link_of(sec, r); link && !placeholder) {
    verdict v = p.link_attach_type(link->link_type, link->attach);
    if (failed_at_load(v)) needs.push_back({link->key(), std::move(v)});
  }
  if (sec.sleepable) {
    needs.push_back({"misc/sleepable", p.misc("sleepable")});
    if (r.prog_type == "kprobe")  // misc/sleepable proves only the flag
      needs.push_back({"misc/sleepable_uprobe", p.misc("sleepable_uprobe")});
    // Sleepable iterators need only the flag: the verifier has allowed every tracing attach type to
    // be sleepable since the flag came (5.10) and checks an allow-list only for fentry/fexit/fmod_ret
    // targets; can_be_sleepable() (6.2) lists BPF_TRACE_ITER. fentry/fexit/fmod_ret with a named
    // target are decided with the target below.
    bool trampoline = sec.kind == hook_kind::fentry || sec.kind == hook_kind::fexit || sec.kind == hook_kind::fmod_ret;
    if ((r.prog_type == "tracing" && r.attach_type != "trace_iter" && !(trampoline && !placeholder)) ||
        r.prog_type == "lsm")
      needs.push_back({"sleepable_target", verdict::unknown("the kernel's sleepable allow-list is not checked "
                                                            "statically")});
  }
  if (r.prog_type == "struct_ops") {
    auto referenced = struct_ops_referenced(oc.obj, prog);
    if (!referenced)
      needs.push_back({"struct_ops/referenced", verdict::unknown("this libbpf does not show which program a "
                                                                 "struct_ops map refers to")});
    else if (!*referenced)
      needs.push_back({"struct_ops/referenced", verdict::no("no struct_ops map of the object refers to this "
                                                            "program: libbpf gives it no attach target")});
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
      trampoline_target_needs(oc, sec, "bpf_lsm_" + subject, needs);
    } else {
      needs.push_back({"target/" + subject, btf_target(oc, subject, BTF_KIND_FUNC, "function " + subject)});
      trampoline_target_needs(oc, sec, subject, needs);
    }
  }

  extern_values externs = collect_extern_values(oc);
  code_facts code = scan_program(oc.img, r.section, r.name, &oc.core_values(), &externs);
  if (!code.error.empty()) needs.push_back({"code", verdict::unknown("instructions not understood: " + code.error)});
  const auto& helpers = p.context().enums().helpers;
  for (std::int32_t id : code.helpers) {
    const btf::entry* e = nullptr;
    for (const auto& h : helpers)
      if (h.value == id) e = &h;
    if (!e) {
      needs.push_back({"helper/" + std::to_string(id),
                       verdict::no("helper #" + std::to_string(id) + " unknown to this kernel"),
                       code.helper_sites[id]});
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
    needs.push_back({"helper/" + r.prog_type + "/" + e->name, std::move(v), code.helper_sites[id]});
    for (const auto& [hid, sym] : code.helper_r1_symbols) {
      const bpf_map* m = hid == id ? bpf_object__find_map_by_name(oc.obj, sym.c_str()) : nullptr;
      if (!m || bpf_map__is_internal(m) || !map_refused_in_r1(e->name, bpf_map__type(m))) continue;
      needs.push_back({"map_arg/" + e->name + "/" + sym,
                       verdict::no("the kernel does not let " + e->name + " use map " + sym + " of type " +
                                       std::string(libbpf_bpf_map_type_str(bpf_map__type(m))
                                                       ? libbpf_bpf_map_type_str(bpf_map__type(m))
                                                       : "?"),
                                   0, "check_map_func_compatibility")});
    }
  }
  for (const auto& k : code.kfunc_calls) {
    if (!oc.kernel.available() || !oc.kernel.has(k, BTF_KIND_FUNC)) {
      // A missing strong extern fails the whole object (extern_needs). libbpf poisons the calls of
      // a missing weak one; the verifier refuses one it reaches ("kfunc ... is referenced but
      // wasn't resolved"), so only calls behind a bpf_ksym_exists() guard (dead) are fine.
      if (!oc.weak.contains(k)) continue;
      if (!oc.kernel.available())
        needs.push_back({"kfunc/" + k, verdict::unknown("no kernel BTF to find kfuncs in")});
      else if (code.sure_kfunc_calls.contains(k))
        needs.push_back({"kfunc/" + k, verdict::no("weak kfunc the kernel lacks, called where the verifier reaches "
                                                   "(no bpf_ksym_exists() guard settles it)",
                                                   0, "extern " + k)});
      else
        needs.push_back({"kfunc/" + k, verdict::unknown("weak kfunc the kernel lacks, called past a branch the "
                                                        "scan cannot settle")});
      continue;
    }
    verdict v = p.kfunc(k, r.prog_type);
    if (v.state == status::unsupported && attach_dependent(r.prog_type) && p.prog_type(r.prog_type).supported())
      v = verdict::unknown("not allowed for the attach type probed; may depend on this program's attach type", 0,
                           v.evidence);
    needs.push_back({"kfunc/" + k + "/" + r.prog_type, std::move(v), code.kfunc_sites[k]});
  }
  // A typed ksym's address comes from kallsyms when the verifier sees it (check_pseudo_btf_id):
  // without CONFIG_KALLSYMS_ALL a variable in BTF may still be missing there.
  // A weak one in BTF is resolved all the same (only a missing weak one is left 0).
  for (const auto& x : code.ld_externs)
    if (oc.ksym_typed.contains(x) && oc.kernel.has(x, BTF_KIND_VAR)) {
      verdict v = oc.kallsyms_has(x);
      if (v.state == status::unsupported) v.reason = "in kernel BTF but not in /proc/kallsyms";
      needs.push_back({"ksym/" + x, std::move(v)});
    }
  for (const auto& x : code.ld_externs)
    if (oc.ksym_funcs.contains(x) && externs.numbers.contains(x) && !code.kfunc_calls.contains(x)) {
      r.warnings.push_back("weak kfunc " + x + " is missing: the calls bpf_ksym_exists() guards are left out");
      needs.push_back({"kfunc/" + x, verdict::yes("weak extern, missing: its guarded calls are dead code")});
    }
  if (code.jmp_v2) needs.push_back({"misc/isa_v2", p.misc("isa_v2")});
  if (code.jmp32) needs.push_back({"misc/isa_v3", p.misc("isa_v3")});
  if (code.isa_v4) needs.push_back({"misc/isa_v4", p.misc("isa_v4")});
  if (code.atomic_fetch) needs.push_back({"misc/isa_atomic_fetch", p.misc("isa_atomic_fetch")});
  if (code.atomic_xchg) needs.push_back({"misc/isa_atomic_xchg", p.misc("isa_atomic_xchg")});
  if (code.atomic_bitwise) needs.push_back({"misc/isa_atomic_bitwise", p.misc("isa_atomic_bitwise")});
  if (code.load_acq_store_rel) needs.push_back({"misc/isa_load_acq_store_rel", p.misc("isa_load_acq_store_rel")});
  for (std::int32_t imm : code.atomic_unknown)
    needs.push_back({"isa/atomic_" + std::to_string(imm),
                     verdict::unknown("BPF_ATOMIC operation " + std::to_string(imm) + " is not known to bpfprobe")});
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
    // A relocation in dead code never reaches the verifier (`mine` has none); one the scan reaches
    // surely fails the load (libbpf poisons it), one past a branch it cannot settle may not.
    std::map<std::string, std::pair<verdict, code_site>> unresolved;
    std::size_t resolved = 0;
    for (const auto& [rel, o] : mine) {
      if (is_existence(rel->kind)) continue;
      if (o.resolved) {
        ++resolved;
        continue;
      }
      std::string key = "core/" + (o.what.empty() ? o.root : o.what);
      code_site site{rel->section, rel->insn_off / sizeof(bpf_insn)};
      verdict v = !o.decided ? verdict::unknown("CO-RE relocation not resolved here: " + o.reason)
                  : code.unsure.contains({rel->section, rel->insn_off / sizeof(bpf_insn)})
                      ? verdict::unknown("CO-RE relocation cannot resolve (" + o.reason +
                                         "); reached only past a branch the verifier may settle and the scan cannot")
                      : verdict::no("CO-RE relocation cannot resolve: " + o.reason);
      auto [at, first] = unresolved.emplace(key, std::pair{v, site});
      if (!first && v.state == status::unsupported) at->second = {v, site};
    }
    for (auto& [key, vs] : unresolved) needs.push_back({key, std::move(vs.first), vs.second});
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
  if (auto link = trampoline_link_of(sec, r)) {
    // The prober's own attach of the same kind (a trampoline on a kernel function, a BPF LSM hook).
    verdict v = oc.p.link_attach_type(link->link_type, link->attach);
    if (v.supported())
      return verdict::yes("via a " + std::string(link->link_type) + " link (" + std::string(link->attach) + ")");
    v.reason = link->key() + ": " + v.reason;
    return v;
  }
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
      // Only the section prefix says return probe or multi: a target may contain "ret" or ".multi".
      c = decide::uprobe(facts, r.section.starts_with("uretprobe"));
      if (r.section.starts_with("uprobe.multi") || r.section.starts_with("uretprobe.multi"))
        own = {decide::path::uprobe_multi};
      else
        own = {decide::path::perf_link, decide::path::perf_ioctl};
      break;
    case hook_kind::tracepoint:
    case hook_kind::raw_tp:
    case hook_kind::tp_btf:
      c = decide::tracepoint(facts);
      if (sec.kind == hook_kind::raw_tp)
        own = {decide::path::raw_tp};
      else if (sec.kind == hook_kind::tp_btf)
        own = {decide::path::tp_btf};
      else
        own = {decide::path::perf_link, decide::path::perf_ioctl};
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
      !oc.kernel.has(hook_subject(sec), BTF_KIND_FUNC)) {
    verdict v = oc.kallsyms_has(hook_subject(sec));
    if (v.state == status::unsupported) v.reason = "kprobe target " + hook_subject(sec) + " is not in /proc/kallsyms";
    if (!v.supported()) return v;
  }
  if (sec.kind == hook_kind::tracepoint && sec.target.find('/') != std::string::npos && !oc.recorded()) {
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
