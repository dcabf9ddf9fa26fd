// Facts read from the system rather than probed: sysctls, lockdown, kernel config.
#pragma once

#include <sys/utsname.h>
#include <zlib.h>

#include <bpfprobe/probe/context.hpp>
#include <bpfprobe/probe/kernel_info.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bpfprobe::probe {

inline std::optional<long long> read_number(const char* path) {
  auto s = read_text(path);
  if (!s || s->empty()) return std::nullopt;
  try {
    return std::stoll(*s);
  } catch (...) {
    return std::nullopt;
  }
}

// `btf_path`: the path an earlier run found (persistent cache), so BTF is not opened for it.
inline kernel_info read_kernel_info(const context& ctx, const std::string* btf_path = nullptr) {
  kernel_info k;
  utsname u{};
  if (uname(&u) == 0) k.release = u.release;
  if (btf_path)
    k.btf = *btf_path;
  else if (ctx.kernel_btf())
    k.btf = ctx.kernel_btf()->path();
  if (ctx.opts().btf_path != btf::vmlinux_path && ctx.btf_error().empty()) k.btf = ctx.opts().btf_path.string();
  auto as_int = [](std::optional<long long> v) -> std::optional<int> {
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  k.unprivileged_bpf_disabled = as_int(read_number("/proc/sys/kernel/unprivileged_bpf_disabled"));
  k.jit_enable = as_int(read_number("/proc/sys/net/core/bpf_jit_enable"));
  k.jit_harden = as_int(read_number("/proc/sys/net/core/bpf_jit_harden"));
  k.jit_kallsyms = as_int(read_number("/proc/sys/net/core/bpf_jit_kallsyms"));
  k.jit_limit = read_number("/proc/sys/net/core/bpf_jit_limit");
  k.lockdown = ctx.lockdown();
  return k;
}

// Sysctl-backed facts as verdicts: unknown when the file cannot be read.
// The names system_facts() gives, in its order.
inline constexpr std::string_view system_fact_names[] = {"jit_enabled", "jit_hardened", "jit_kallsyms",
                                                         "unprivileged_bpf", "lockdown_none"};

inline std::vector<std::pair<std::string, verdict>> system_facts(const kernel_info& k) {
  std::vector<std::pair<std::string, verdict>> out;
  auto flag = [&](const char* name, const std::optional<int>& v, const char* file, auto on) {
    if (!v) {
      out.emplace_back(name, verdict::unknown(std::string("cannot read ") + file));
      return;
    }
    std::string ev = std::string(file) + " = " + std::to_string(*v);
    out.emplace_back(name, on(*v) ? verdict::yes({}, ev) : verdict::no("disabled", 0, ev));
  };
  flag("jit_enabled", k.jit_enable, "/proc/sys/net/core/bpf_jit_enable", [](int v) { return v >= 1; });
  flag("jit_hardened", k.jit_harden, "/proc/sys/net/core/bpf_jit_harden", [](int v) { return v >= 1; });
  flag("jit_kallsyms", k.jit_kallsyms, "/proc/sys/net/core/bpf_jit_kallsyms", [](int v) { return v >= 1; });
  flag("unprivileged_bpf", k.unprivileged_bpf_disabled, "/proc/sys/kernel/unprivileged_bpf_disabled",
       [](int v) { return v == 0; });
  if (k.lockdown.empty())
    out.emplace_back("lockdown_none", verdict::unknown("securityfs not mounted or no lockdown LSM"));
  else if (k.lockdown == "none")
    out.emplace_back("lockdown_none", verdict::yes({}, "lockdown=none"));
  else
    out.emplace_back("lockdown_none", verdict::no("kernel is locked down", 0, "lockdown=" + k.lockdown));
  return out;
}

inline std::string slurp_gzip(const char* path) {
  std::string out;
  gzFile f = gzopen(path, "rb");
  if (!f) return out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

inline kernel_config read_kernel_config(const std::string& release) {
  kernel_config c;
  std::string text;
  std::string boot = "/boot/config-" + release;
  if (auto t = read_text(boot)) {
    text = *t;
    c.source = boot;
  } else if (text = slurp_gzip("/proc/config.gz"); !text.empty()) {
    c.source = "/proc/config.gz";
  } else {
    return c;
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.starts_with("CONFIG_")) {
      auto eq = line.find('=');
      if (eq != std::string_view::npos) {
        std::string value(line.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
        c.values.emplace(std::string(line.substr(0, eq)), std::move(value));
      }
    }
    pos = end + 1;
  }
  return c;
}

inline verdict config_verdict(const kernel_config& c, const std::string& option) {
  if (c.source.empty()) return verdict::unknown("no /boot/config-<release> or /proc/config.gz");
  auto it = c.values.find(option);
  if (it == c.values.end()) return verdict::no("not set", 0, c.source);
  if (it->second == "n") return verdict::no("set to n", 0, c.source);
  return verdict::yes({}, it->second);
}

}  // namespace bpfprobe::probe
