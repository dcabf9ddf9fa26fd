// What every probe may consult: the kernel's enums, its BTF, its version code, and owned helpers.
#pragma once

#include <linux/version.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <bpfprobe/btf/check.hpp>
#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/bpf.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace bpfprobe::probe {

// Reads a small text file (sysfs/procfs), trimmed; nullopt when it cannot be read.
inline std::optional<std::string> read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (in.bad()) return std::nullopt;
  return s;
}

// LINUX_VERSION_CODE of the running kernel, for the kern_version attr old kprobe loads need.
inline std::uint32_t running_version_code() {
  utsname u{};
  if (uname(&u) != 0) return 0;
  unsigned a = 0, b = 0, c = 0;
  if (std::sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2) return 0;
  return KERNEL_VERSION(a, b, c > 255 ? 255 : c);
}

// A kernel recorded elsewhere (a kernel snapshot, docs/snapshot.md), answered for instead of the
// running one: the prober's verdicts by its own keys, the kernel's vmlinux BTF, its lockdown and
// version code.
struct recorded_kernel {
  std::string name;                                      // named in reasons: the snapshot file
  std::map<std::string, verdict, std::less<>> verdicts;  // by the prober's cache keys
  std::string vmlinux_btf;                               // raw BTF; empty when the kernel had none
  std::string lockdown;                                  // as context::lockdown() gives it
  std::uint32_t version_code = 0;
};

struct options {
  std::filesystem::path btf_path = btf::vmlinux_path;  // names come from here (--btf)
  unsigned threads = 0;                                // 0: one per CPU
  // Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK (64 KiB by default), so probes would
  // fail with EPERM; raise the limit as libbpf does. Off: probes see the caller's limit.
  bool raise_memlock = true;
  // kfunc names and bpf_kfunc tags come from this BTF file; empty: from btf_path. Call ids are
  // always the running kernel's (a copy of vmlinux with its tags hidden forces the untagged path).
  std::filesystem::path kfunc_btf;
  // full_report computes every program type that may call each kfunc (--kfuncs=full).
  bool kfunc_prog_types = false;
  // The persistent verdict cache (probe/persist.hpp): on by default. The environment variable
  // BPFPROBE_NO_CACHE=1 turns it off as well; BPFPROBE_CACHE_DIR moves it.
  struct cache_options {
    bool enabled = true;
    bool refresh = false;            // do not read it, but write what this run decides
    std::filesystem::path dir = {};  // empty: $BPFPROBE_CACHE_DIR, /run/bpfprobe or $XDG_RUNTIME_DIR/bpfprobe
  } cache;
  // Answer for this recorded kernel (`bpfprobe check --target`): nothing is probed, a fact the
  // record lacks is unknown, and the persistent cache is off.
  std::shared_ptr<const recorded_kernel> recorded;
};

// Raises RLIMIT_MEMLOCK to infinity when allowed; false when the limit stays finite.
inline bool raise_memlock_limit() {
  rlimit cur{};
  if (getrlimit(RLIMIT_MEMLOCK, &cur) == 0 && cur.rlim_cur == RLIM_INFINITY) return true;
  rlimit inf{RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &inf) == 0) return true;
  // Without CAP_SYS_RESOURCE the soft limit can still go up to the hard one.
  if (cur.rlim_max != cur.rlim_cur) {
    rlimit hard{cur.rlim_max, cur.rlim_max};
    setrlimit(RLIMIT_MEMLOCK, &hard);
  }
  return false;
}

// The enums of a BTF file; an enum the file lacks (a hand-made or stripped BTF, or a kernel older
// than the enum) comes from the built-in table instead, and `source` says which ones did.
inline btf::kernel_enums enums_with_fallback(const btf::kernel_btf& k) {
  btf::kernel_enums e = btf::enums_from(k);
  btf::kernel_enums builtin = btf::builtin_enums({});
  std::string missing;
  auto fill = [&](std::vector<btf::entry>& table, std::vector<btf::entry>& fallback, const char* name) {
    if (!table.empty()) return;
    table = std::move(fallback);
    missing += (missing.empty() ? "enum " : ", enum ") + std::string(name);
  };
  fill(e.prog_types, builtin.prog_types, "bpf_prog_type");
  fill(e.map_types, builtin.map_types, "bpf_map_type");
  fill(e.attach_types, builtin.attach_types, "bpf_attach_type");
  fill(e.link_types, builtin.link_types, "bpf_link_type");
  fill(e.helpers, builtin.helpers, "bpf_func_id");
  if (!missing.empty()) {
    e.from_btf = false;
    e.source += " (built-in tables for " + missing + ": not in this BTF)";
  }
  return e;
}

class context {
 public:
  explicit context(const options& opt = {}) : opt_(opt) {
    if (opt.recorded) {
      version_code_ = opt.recorded->version_code;
      lockdown_ = opt.recorded->lockdown;
      return;
    }
    if (opt.raise_memlock) raise_memlock_limit();
    version_code_ = running_version_code();
    if (auto l = read_text("/sys/kernel/security/lockdown")) {
      auto open = l->find('['), close = l->find(']');
      if (open != std::string::npos && close != std::string::npos) lockdown_ = l->substr(open + 1, close - open - 1);
    }
  }
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  // BTF is parsed on first use: a prober whose answers all come from its persistent cache never
  // reads it.
  [[nodiscard]] const btf::kernel_enums& enums() const {
    load_btf();
    return enums_;
  }
  // The running kernel's BTF (attach targets, struct layouts); null when it has none.
  [[nodiscard]] const btf::kernel_btf* kernel_btf() const {
    load_btf();
    return kernel_btf_;
  }
  [[nodiscard]] const std::string& btf_error() const {
    load_btf();
    return btf_error_;
  }
  [[nodiscard]] std::uint32_t version_code() const noexcept { return version_code_; }
  // "none", "integrity", "confidentiality", or empty when securityfs is not readable.
  [[nodiscard]] const std::string& lockdown() const noexcept { return lockdown_; }
  [[nodiscard]] const options& opts() const noexcept { return opt_; }

  // Rules with the permission hint filled in from what we know of this machine.
  [[nodiscard]] classify::rules rules(classify::rules r = {}) const {
    if (!lockdown_.empty() && lockdown_ != "none")
      r.permission_hint = "lockdown=" + lockdown_;
    else if (geteuid() != 0)
      r.permission_hint = "not running as root";
    return r;
  }

  // The value this build's uapi headers give a name, without reading BTF; nullopt for names the build
  // does not know and when names come from a --btf file (its values are the ones that count).
  [[nodiscard]] std::optional<std::int64_t> builtin_value(std::vector<btf::entry> btf::kernel_enums::*table,
                                                          std::string_view name) const {
    if (opt_.btf_path != btf::vmlinux_path || opt_.recorded) return std::nullopt;
    static const btf::kernel_enums builtin = btf::builtin_enums({});
    return btf::kernel_enums::value_of(builtin.*table, name);
  }

  [[nodiscard]] std::optional<std::int64_t> prog_type(std::string_view name) const {
    return btf::kernel_enums::value_of(enums().prog_types, name);
  }
  [[nodiscard]] std::optional<std::int64_t> attach_type(std::string_view name) const {
    return btf::kernel_enums::value_of(enums().attach_types, name);
  }

 private:
  void load_btf() const {
    std::call_once(btf_once_, [this] {
      if (const auto& r = opt_.recorded) {
        if (r->vmlinux_btf.empty()) {
          btf_error_ = r->name + " recorded no vmlinux BTF";
          enums_ = btf::builtin_enums("built-in tables (" + btf_error_ + ")");
          return;
        }
        auto named = btf::kernel_btf::parse(r->vmlinux_btf, "vmlinux BTF of " + r->name);
        if (named) {
          enums_ = enums_with_fallback(named.value());
          names_btf_.emplace(std::move(named).value());
          kernel_btf_ = &*names_btf_;
        } else {
          btf_error_ = named.error().describe();
          enums_ = btf::builtin_enums("built-in tables (" + btf_error_ + ")");
        }
        return;
      }
      // Attach targets must come from the running kernel, even when names come from --btf. A file
      // named in the options is checked against this build and that kernel (btf/check.hpp) first.
      bool own = opt_.btf_path == btf::vmlinux_path;
      if (!own)
        if (auto k = btf::kernel_btf::open(); k) {
          own_kernel_btf_.emplace(std::move(k).value());
          kernel_btf_ = &*own_kernel_btf_;
        }
      auto named = own ? btf::kernel_btf::open(opt_.btf_path) : btf::open_checked(opt_.btf_path, kernel_btf_);
      if (named) {
        enums_ = enums_with_fallback(named.value());
        names_btf_.emplace(std::move(named).value());
        if (own) kernel_btf_ = &*names_btf_;
      } else {
        btf_error_ = named.error().describe();
        enums_ = btf::builtin_enums("built-in tables (" + btf_error_ + ")");
      }
    });
  }

  options opt_;
  mutable std::once_flag btf_once_;
  mutable btf::kernel_enums enums_;
  mutable std::optional<btf::kernel_btf> names_btf_;
  mutable std::optional<btf::kernel_btf> own_kernel_btf_;
  mutable const btf::kernel_btf* kernel_btf_ = nullptr;
  mutable std::string btf_error_;
  std::uint32_t version_code_ = 0;
  std::string lockdown_;
};

}  // namespace bpfprobe::probe
