// What libbpf makes of a program's section: program type, expected attach type, and the attach
// target named after the section prefix ("fentry/do_unlinkat" -> do_unlinkat).
#pragma once

#include <bpf/libbpf.h>

#include <string>
#include <string_view>

namespace bpfprobe::objcheck {

// The hook family of a section, for target checks and sibling matching.
enum class hook_kind {
  other,
  fentry,
  fexit,
  fmod_ret,
  freplace,
  lsm,
  tp_btf,
  raw_tp,
  tracepoint,
  kprobe,
  kretprobe,
  kprobe_multi,
  uprobe,
  iter,
  struct_ops
};

struct section_info {
  hook_kind kind = hook_kind::other;
  std::string target;  // after the prefix; empty when none
  bool sleepable = false;
  bool target_needed_at_load = false;  // libbpf resolves the target in BTF when loading
};

inline section_info parse_section(std::string_view sec) {
  struct prefix {
    std::string_view text;
    hook_kind kind;
    bool at_load;
  };
  static constexpr prefix prefixes[] = {
      {"fentry", hook_kind::fentry, true},
      {"fexit", hook_kind::fexit, true},
      {"fmod_ret", hook_kind::fmod_ret, true},
      {"freplace", hook_kind::freplace, true},
      {"lsm_cgroup", hook_kind::lsm, true},
      {"lsm", hook_kind::lsm, true},
      {"tp_btf", hook_kind::tp_btf, true},
      {"iter", hook_kind::iter, true},
      {"raw_tracepoint.w", hook_kind::raw_tp, false},
      {"raw_tracepoint", hook_kind::raw_tp, false},
      {"raw_tp.w", hook_kind::raw_tp, false},
      {"raw_tp", hook_kind::raw_tp, false},
      {"tracepoint", hook_kind::tracepoint, false},
      {"tp", hook_kind::tracepoint, false},
      {"kprobe.multi", hook_kind::kprobe_multi, false},
      {"kretprobe.multi", hook_kind::kprobe_multi, false},
      {"kprobe.session", hook_kind::kprobe_multi, false},
      {"kprobe", hook_kind::kprobe, false},
      {"kretprobe", hook_kind::kretprobe, false},
      {"ksyscall", hook_kind::kprobe, false},
      {"kretsyscall", hook_kind::kretprobe, false},
      {"uprobe.multi", hook_kind::uprobe, false},
      {"uretprobe.multi", hook_kind::uprobe, false},
      {"uprobe", hook_kind::uprobe, false},
      {"uretprobe", hook_kind::uprobe, false},
      {"usdt", hook_kind::uprobe, false},
      {"struct_ops", hook_kind::struct_ops, false},
  };
  section_info out;
  if (sec.starts_with("?")) sec.remove_prefix(1);
  for (const auto& p : prefixes) {
    if (!sec.starts_with(p.text)) continue;
    std::string_view rest = sec.substr(p.text.size());
    if (rest.starts_with(".s")) {
      out.sleepable = true;
      rest.remove_prefix(2);
    }
    if (!rest.empty() && rest.front() != '/') continue;  // "tpx/..." is not "tp"
    out.kind = p.kind;
    out.target_needed_at_load = p.at_load;
    if (rest.starts_with("/")) out.target = std::string(rest.substr(1));
    // kprobe/func+off: the function is the part before '+'.
    if (out.kind == hook_kind::kprobe || out.kind == hook_kind::kretprobe)
      out.target = out.target.substr(0, out.target.find('+'));
    return out;
  }
  return out;
}

// The name libbpf gives a hook's kernel object: fentry/fexit/fmod_ret and kprobes the function,
// tp_btf/raw_tp the tracepoint, tracepoint "category/name" its name.
inline std::string hook_subject(const section_info& s) {
  std::string t = s.target;
  if (s.kind == hook_kind::tracepoint) t = t.substr(t.find('/') == std::string::npos ? 0 : t.find('/') + 1);
  if (auto colon = t.find(':'); colon != std::string::npos && s.kind != hook_kind::uprobe) t = t.substr(colon + 1);
  return t;
}

}  // namespace bpfprobe::objcheck
