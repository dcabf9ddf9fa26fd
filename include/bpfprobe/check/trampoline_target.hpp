// What the verifier checks of a trampoline program's target function once libbpf has found it in
// BTF (bpf_check_attach_target, kernel/bpf/verifier.c): that the function has an address, that an
// fmod_ret target may have its return value changed, and that a sleepable program's target may sleep.
// Each check reads the kernel's own lists (kallsyms, the error-injection list) and says unknown when
// it cannot read them.
#pragma once

#include <bpf/btf.h>

#include <bpfprobe/check/kallsyms_data.hpp>
#include <bpfprobe/check/kernel_types.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/sys/detached_mount.hpp>
#include <fstream>
#include <istream>
#include <optional>
#include <string>
#include <unordered_set>

namespace bpfprobe::objcheck {

// The symbol names of /proc/kallsyms, read once (names are listed even where addresses read as 0).
struct kernel_symbols {
  bool readable = false;     // names were read
  bool data_listed = false;  // data symbols are listed (CONFIG_KALLSYMS_ALL)
  std::unordered_set<std::string> names;
  // Why a name missing here does not prove the symbol missing for libbpf, which reads the addresses
  // too: the file could not be read, or shows only zero addresses (kptr_restrict, not root).
  std::string problem;

  static kernel_symbols read(std::istream& in) {
    kernel_symbols k;
    std::string addr, type, sym;
    bool real = false;
    while (in >> addr >> type >> sym) {
      k.names.insert(sym);
      real |= addr.find_first_not_of('0') != std::string::npos;
      if (!type.empty() && shows_kernel_variables(type[0], sym)) k.data_listed = true;
      in.ignore(4096, '\n');
    }
    k.readable = !k.names.empty();
    if (!k.readable)
      k.problem = "/proc/kallsyms lists no symbols";
    else if (!real)
      k.problem = "/proc/kallsyms shows only zero addresses (kptr_restrict; run as root)";
    return k;
  }
  static kernel_symbols read_proc() {
    std::ifstream in("/proc/kallsyms");
    if (!in) {
      kernel_symbols k;
      k.problem = "/proc/kallsyms cannot be read (" + sys::errno_name(errno) + ")";
      return k;
    }
    return read(in);
  }
};

// The kernel's error-injection list (functions marked ALLOW_ERROR_INJECTION): the functions an fmod_ret
// program may modify besides security_*, and those a sleepable fentry/fexit may attach to.
struct error_injection_list {
  bool known = false;  // false: could not be read (then `why` says why)
  std::string source, why;
  std::unordered_set<std::string> functions;

  // One "name\ttype" line per function (debugfs error_injection/list).
  static error_injection_list from_debugfs(std::istream& in, std::string source) {
    error_injection_list l;
    l.known = true;
    l.source = std::move(source);
    std::string name;
    while (in >> name) {
      l.functions.insert(name);
      in.ignore(4096, '\n');
    }
    return l;
  }

  // In order: the kernel config (without CONFIG_FUNCTION_ERROR_INJECTION the list is empty), the
  // list in a mounted debugfs, in a debugfs instance of our own (mounted nowhere, gone with its fd),
  // and the _eil_addr_<function> entries that kallsyms lists with its data symbols. Without `debugfs`
  // (the kernel is a recorded one, not this machine's) only the config and the names count.
  static error_injection_list of_kernel(const std::optional<std::string>& config_value, bool config_known,
                                        const kernel_symbols& syms, bool debugfs = true) {
    error_injection_list l;
    if (config_known && config_value != "y") {
      l.known = true;
      l.source = "kernel config: CONFIG_FUNCTION_ERROR_INJECTION is not set";
      return l;
    }
    const std::string rel = "/error_injection/list";
    std::string mount_error = "a snapshot does not record debugfs";
    if (debugfs) {
      if (std::ifstream in("/sys/kernel/debug" + rel); in) return from_debugfs(in, "/sys/kernel/debug" + rel);
      if (auto m = sys::detached_mount::create("debugfs")) {
        if (std::ifstream in(m.value().path() + rel); in) return from_debugfs(in, "debugfs" + rel);
        mount_error = "debugfs has no error_injection/list";
      } else {
        mount_error = "debugfs: " + m.error().describe();
      }
    }
    if (syms.readable && syms.data_listed) {
      l.known = true;
      l.source = "/proc/kallsyms (_eil_addr_* entries)";
      const std::string prefix = "_eil_addr_";
      for (const auto& s : syms.names)
        if (s.starts_with(prefix)) l.functions.insert(s.substr(prefix.size()));
      return l;
    }
    l.why = "the kernel's error-injection list could not be read (" + mount_error +
            "; /proc/kallsyms lists no data symbols without CONFIG_KALLSYMS_ALL)";
    return l;
  }
};

// The verifier looks the target's address up in kallsyms: a function in BTF that kallsyms lacks
// (inlined everywhere, or renamed with a .isra/.constprop suffix) fails the load with ENOENT
// ("The address of function X cannot be found", 5.5).
inline verdict target_address(const kernel_symbols& syms, const std::string& function) {
  if (!syms.readable)
    return verdict::unknown("/proc/kallsyms could not be read; the verifier needs the address of " + function);
  if (syms.names.contains(function)) return verdict::yes("in /proc/kallsyms", function);
  return verdict::no("function " + function + " is in BTF but has no address (not in /proc/kallsyms)", 0,
                     "the verifier: \"The address of function " + function + " cannot be found\"");
}

// A function registered as a kfunc may be in a modify_return kfunc set (btf_kfunc_is_modify_return),
// which BTF does not show.
inline bool tagged_kfunc(kernel_types& kernel, const std::string& function) {
  auto funcs = kernel.find(function, BTF_KIND_FUNC);
  if (funcs.empty()) return false;
  for (const auto& tag : kernel.find("bpf_kfunc", BTF_KIND_DECL_TAG)) {
    const btf_type* t = btf__type_by_id(tag.btf, tag.id);
    for (const auto& f : funcs)
      if (f.btf == tag.btf && t->type == f.id) return true;
  }
  return false;
}

// check_attach_modify_return (5.7): security_* functions and those on the error-injection list.
inline verdict modify_return_target(kernel_types& kernel, const error_injection_list& eil,
                                    const std::string& function) {
  if (function.starts_with("security_")) return verdict::yes("security_* functions may be modified");
  if (eil.known && eil.functions.contains(function)) return verdict::yes("on the error-injection list", eil.source);
  if (tagged_kfunc(kernel, function))
    return verdict::unknown(function + " is a kfunc: it may be in a modify_return kfunc set, which BTF does not show");
  if (!eil.known) return verdict::unknown(eil.why);
  return verdict::no(function + "() is not modifiable: neither security_* nor on the error-injection list", 0,
                     eil.source);
}

// Sleepable fentry/fexit/fmod_ret (5.10): the target must be on the error-injection list and not one
// of the functions the verifier keeps non-sleepable (btf_non_sleepable_error_inject).
inline verdict sleepable_tracing_target(kernel_types& kernel, const error_injection_list& eil,
                                        const std::string& function) {
  for (const char* never :
       {"__filemap_add_folio", "add_to_page_cache_lru", "should_fail_alloc_page", "should_failslab"})
    if (function == never) return verdict::no(function + " is not sleepable (the verifier's non-sleepable list)");
  if (eil.known && eil.functions.contains(function)) return verdict::yes("on the error-injection list", eil.source);
  if (tagged_kfunc(kernel, function))
    return verdict::unknown(function + " is a kfunc: it may be in a sleepable modify_return kfunc set");
  if (!eil.known) return verdict::unknown(eil.why);
  return verdict::no(function + " is not sleepable: not on the error-injection list", 0, eil.source);
}

}  // namespace bpfprobe::objcheck
