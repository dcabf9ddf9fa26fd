// The failure taxonomy of `bpfprobe check`: a `code` and a one-line `fix` for every program and map
// that is not ok (docs/check-json.md lists the codes). Static results take them from the need that
// decided the verdict, trial loads from libbpf's messages, the verifier log and the errno.
#pragma once

#include <algorithm>
#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/misc.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/probe/privilege.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cctype>
#include <string>
#include <string_view>

namespace bpfprobe::objcheck {

struct failure {
  std::string code = "ok";
  std::string fix;
};

namespace taxonomy_detail {

inline bool starts(std::string_view s, std::string_view p) { return s.starts_with(p); }
inline bool has(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// "needs kernel >= F (first kernel of WHAT)" when the catalog knows F, else `otherwise`.
inline std::string needs_kernel(std::span<const probe::doc> docs, std::string_view key, const std::string& what,
                                std::string otherwise) {
  const probe::doc* d = probe::find_doc(docs, key);
  if (!d || d->first_kernel.empty() || !std::isdigit(static_cast<unsigned char>(d->first_kernel[0]))) return otherwise;
  return "needs kernel >= " + std::string(d->first_kernel) + " (first kernel of " + what + ")";
}

inline std::string misc_kernel(std::string_view name, std::string otherwise) {
  for (const auto& row : probe::misc_probes())
    if (row.info.name == name && !row.info.first_kernel.empty())
      return "needs kernel >= " + std::string(row.info.first_kernel) + " (first kernel of " + std::string(name) + ")";
  return otherwise;
}

// A verdict that is unknown for want of privilege (EPERM, EACCES, lockdown).
inline bool permission(const verdict& v) {
  return v.state == status::unknown &&
         (v.err == EPERM || v.err == EACCES || has(v.reason, "lockdown") || has(v.reason, "EPERM"));
}

// Refused although the process had every capability the load asks for (privilege.hpp's wording): the
// kernel's lockdown or an LSM, a policy of the machine, not of the process.
inline bool policy_refusal(const verdict& v) {
  return v.state == status::unknown && has(v.reason, probe::every_capability_held);
}

inline const failure policy_failure{"environment",
                                    "this kernel's lockdown or an LSM refuses this program even with every "
                                    "capability: it loads where that policy is off (e.g. lockdown=none)"};

inline const failure permission_failure{"permission",
                                        "run as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) on a kernel without "
                                        "lockdown=integrity/confidentiality"};
inline const failure missing_btf{"missing-btf", "use a kernel with CONFIG_DEBUG_INFO_BTF, or pass --btf FILE"};

}  // namespace taxonomy_detail

// The code and fix of one need (a fact of the static prediction) that is not met.
inline failure failure_of_need(const need& n, const std::vector<map_result>& maps = {}) {
  using namespace taxonomy_detail;
  const std::string& f = n.fact;
  const verdict& v = n.v;
  if (v.supported()) return {};
  if (policy_refusal(v)) return policy_failure;
  if (permission(v)) return permission_failure;
  if (v.state == status::unknown && has(v.reason, "no kernel BTF")) return missing_btf;
  auto tail = [&](std::string_view prefix) { return f.substr(prefix.size()); };
  if (starts(f, "map/")) {
    std::string name = tail("map/");
    for (const auto& m : maps)
      if (m.name == name && m.code != "ok") return {m.code, "map " + name + ": " + m.fix};
    return {"map-type", "map " + name + " cannot be created here"};
  }
  if (f == "section")
    return {"program-type",
            "set the program type before load (bpf_program__set_type), or use a SEC() name libbpf knows"};
  if (starts(f, "prog_type/"))
    return {"program-type",
            needs_kernel(probe::prog_type_docs, tail("prog_type/"), "program type " + tail("prog_type/"),
                         "program type " + tail("prog_type/") + " is not available here")};
  if (f == "misc/sleepable_uprobe")
    return {"attach-type", "this kernel has no sleepable uprobes: use SEC(\"uprobe\") without sleeping helpers"};
  if (starts(f, "attach_type/") || starts(f, "link/"))
    return {"attach-type", "use an attach type this kernel has (or the sibling program shown)"};
  if (f == "target") return {"attach-target", "set the attach target before load (bpf_program__set_attach_target)"};
  if (starts(f, "target_address/"))
    return {"attach-target",
            "attach to a function that has an address here (inlined and init-only functions "
            "have none), or use the sibling program shown"};
  if (starts(f, "modify_return/"))
    return {"attach-target",
            "fmod_ret only attaches to security_* hooks and error-injectable functions "
            "(ALLOW_ERROR_INJECTION); use fexit to observe the return value"};
  if (starts(f, "sleepable_target/"))
    return {"attach-target",
            "sleepable programs attach only to functions the kernel allows to sleep (the "
            "error-injection list, security hooks); drop the .s suffix or pick such a target"};
  if (starts(f, "target/") || f == "sleepable_target")
    return {"attach-target",
            "attach to a function/hook this kernel has (use the sibling program or attach path shown)"};
  if (starts(f, "helper/")) {
    std::string name = f.substr(f.rfind('/') + 1);
    std::string other = "helper " + name + " is not offered to this program type; use a program type that has it";
    if (!name.empty() &&
        std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return {"helper", "helper #" + name + " is newer than this kernel: needs a newer kernel"};
    if (!has(v.reason, "unknown to this kernel")) return {"helper", other};
    return {"helper", needs_kernel(probe::helper_docs, name, "helper " + name, other)};
  }
  if (starts(f, "map_arg/")) {
    std::string rest = tail("map_arg/");  // helper/map
    auto slash = rest.find('/');
    return {"helper", "pass " + rest.substr(0, slash) + " a map of a type it takes (map " + rest.substr(slash + 1) +
                          "'s type is refused for it)"};
  }
  if (starts(f, "kfunc/")) return {"kfunc", "declare the kfunc __weak and guard the call with bpf_ksym_exists()"};
  if (starts(f, "ksym/"))
    return {"extern-symbol", "declare the extern __weak and test it before use (libbpf then sets it to 0)"};
  if (starts(f, "kconfig/")) return {"kconfig", "declare the extern __weak (libbpf then uses 0) or set the option"};
  if (starts(f, "core"))
    return {"core-relocation", "guard the access with bpf_core_field_exists()/bpf_core_type_exists()"};
  if (starts(f, "misc/large_insn_limit") || f == "insn_limit")
    return {"insn-limit", misc_kernel("large_insn_limit", "split the program (tail calls, subprograms)")};
  if (starts(f, "misc/isa_") || starts(f, "misc/bounded_loops") || starts(f, "isa/") || f == "may_goto")
    return {"isa", misc_kernel(f.substr(f.find('/') + 1), "build for an older -mcpu (clang -mcpu=v1/v2/v3)")};
  if (starts(f, "misc/sleepable"))
    return {"program-type", misc_kernel("sleepable", "drop the .s (sleepable) section suffix")};
  if (starts(f, "misc/map_flag_")) return {"map-flags", misc_kernel(tail("misc/"), "drop the map flag")};
  if (starts(f, "misc/global_data"))
    return {"map-type", misc_kernel("global_data", "avoid global variables (.data/.rodata/.bss)")};
  if (starts(f, "map_type/"))
    return {"map-type", needs_kernel(probe::map_type_docs, tail("map_type/"), "map type " + tail("map_type/"),
                                     "map type " + tail("map_type/") + " is not available here")};
  if (starts(f, "struct_ops/")) return {"map-type", "needs a kernel with this struct_ops type and its members"};
  if (f == "max_entries") return {"map-size", "set max_entries before load (bpf_map__set_max_entries)"};
  if (starts(f, "create/")) {
    if (v.state == status::unsupported)
      return {"map-definition",
              "change the map's key/value size or flags to what this kernel takes for its type "
              "(BPF_MAP_CREATE answered " +
                  sys::errno_name(v.err) + ")"};
    if (permission(v)) return permission_failure;
    return {"unknown", v.reason};
  }
  if (starts(f, "pin/")) {
    if (has(v.reason, "not a bpffs"))
      return {"environment", "mount bpffs at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)"};
    if (v.state == status::unsupported)
      return {"environment", "remove the stale pin (" + v.evidence + ") or make the map's definition match it"};
    return {"environment", "make the pin root readable (run as root)"};
  }
  if (f == "code") return {"unknown", "report the object: bpfprobe could not follow its instructions"};
  return {"unknown", v.reason};
}

// The first need that decides a verdict (as combine_needs picks it).
inline failure failure_of_needs(const std::vector<need>& needs, const std::vector<map_result>& maps = {}) {
  const need* unknown = nullptr;
  for (const auto& n : needs) {
    if (n.v.state == status::unsupported) return failure_of_need(n, maps);
    if (n.v.state == status::unknown && !unknown) unknown = &n;
  }
  return unknown ? failure_of_need(*unknown, maps) : failure{};
}

// The code and fix of a trial load's verdict (trial.hpp's classify_load wording); `fallback` is the
// static prediction's, used where the load's own messages do not say more.
inline failure failure_of_trial(const verdict& v, const failure& fallback) {
  using namespace taxonomy_detail;
  if (v.supported()) return {};
  const std::string& r = v.reason;
  const std::string& e = v.evidence;
  // Another program that libbpf loads along failed: its reason decides the code.
  if (auto at = r.find(loaded_along); r.starts_with("program ") && at != std::string::npos) {
    failure inner = failure_of_trial({v.state, r.substr(at + loaded_along.size()), v.err, e}, {});
    inner.fix = r.substr(0, at) + ": " + inner.fix;
    return inner;
  }
  if (policy_refusal(v)) return policy_failure;
  if (permission(v)) return permission_failure;
  if (has(r, "bpffs") || has(r, "pinned map"))
    return {"environment", fallback.code == "environment" ? fallback.fix : "mount bpffs at the pin root"};
  if (has(r, "attach target") || has(r, "freplace target") || has(r, "not sleepable"))
    return {"attach-target",
            has(r, "set at run time")
                ? "set the attach target before load (bpf_program__set_attach_target)"
                : "attach to a function/hook this kernel has (use the sibling program or attach path shown)"};
  if (has(r, "CO-RE"))
    return {"core-relocation", "guard the access with bpf_core_field_exists()/bpf_core_type_exists()"};
  if (has(r, "weak kfunc")) return {"kfunc", "guard the call with bpf_ksym_exists()"};
  if (has(r, "kfunc") || has(e, "func ksym"))
    return {"kfunc", "declare the kfunc __weak and guard the call with bpf_ksym_exists()"};
  if (has(r, "kconfig") || has(e, "'CONFIG_"))
    return {"kconfig", "declare the extern __weak (libbpf then uses 0) or set the option"};
  if (has(r, "extern") || has(r, "kallsyms"))
    return {"extern-symbol", "declare the extern __weak and test it before use (libbpf then sets it to 0)"};
  if (has(r, "section name"))
    return {"program-type",
            "set the program type before load (bpf_program__set_type), or use a SEC() name libbpf knows"};
  if (has(r, "max_entries is 0")) return {"map-size", "set max_entries before load (bpf_map__set_max_entries)"};
  if (has(r, "map"))
    return fallback.code.starts_with("map-") ? fallback
                                             : failure{"map-type", "a map of the object cannot be created here"};
  if (has(r, "helper"))
    return fallback.code == "helper" ? fallback : failure{"helper", "use a helper this program type has here"};
  if (has(e, "uses reserved fields") || has(e, "invalid atomic opcode") || has(r, "instruction unknown") ||
      has(r, "back-edges") || has(r, "ld_imm64 pseudo"))
    return fallback.code == "isa" ? fallback : failure{"isa", "build for an older -mcpu (clang -mcpu=v1/v2/v3)"};
  if (has(e, "BPF program is too large") || has(e, "too many instructions") || v.err == E2BIG)
    return {"insn-limit", "split the program (tail calls, subprograms, bpf_loop)"};
  if (has(r, "verifier rejected")) return {"verifier", "fix the program logic the verifier names in the evidence line"};
  if (fallback.code != "ok" && fallback.code != "unknown") return fallback;
  if (v.state == status::unsupported)
    return {"loader", "the load was refused before the verifier ran; see the evidence"};
  return {"unknown", r};
}

}  // namespace bpfprobe::objcheck
