// Making a kernel snapshot (docs/snapshot.md): what a static check needs about this kernel and this
// privilege set, gathered from the running kernel and a full report, serialized deterministically
// (sorted, no timestamps, no addresses) and written to a file that appears whole or not at all.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <bpfprobe/catalog/system.hpp>
#include <bpfprobe/check/kallsyms_data.hpp>
#include <bpfprobe/check/snapshot_format.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/probe/persist.hpp>  // and BPFPROBE_CATALOG_HASH, through persist_key.hpp
#include <bpfprobe/report/model.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace bpfprobe::snapshot {

struct verdict_row {
  std::string section, name;  // as fact_key names them: ("helpers", "xdp/bpf_redirect")
  verdict v;
  friend bool operator<(const verdict_row& a, const verdict_row& b) {
    return std::tie(a.section, a.name) < std::tie(b.section, b.name);
  }
};

// Everything a snapshot holds, before serialization.
struct contents {
  std::map<std::string, std::string> meta;
  std::vector<verdict_row> verdicts;
  std::string report_json;
  std::optional<std::string> vmlinux_btf;
  std::map<std::string, std::string> module_btf;  // module name: raw split BTF
  std::vector<std::string> kallsyms;              // names, sorted, unique
  std::map<std::string, std::string> config;      // CONFIG_X: value (quotes stripped)
};

namespace write_detail {

// A whole file of at most `limit` bytes (sysfs files report size 0, so read to the end).
inline std::optional<std::string> read_all(const std::string& path, std::uint64_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[65536];
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) ok = false;
    if (!ok) break;
  }
  ::close(fd);
  return ok ? std::optional<std::string>(std::move(out)) : std::nullopt;
}

// Values are one line of printable ASCII (uname strings, sysfs words).
inline std::string one_line(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

inline std::string caps_effective() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return "unknown";
  std::uint64_t v = (std::uint64_t{data[1].effective} << 32) | data[0].effective;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The evidence of a supported verdict names what the writer's run made (link and map ids, thread
// ids, byte counts read from an iterator): left out, so the same kernel gives the same file.
inline verdict stable(verdict v) {
  if (v.supported()) v.evidence.clear();
  return v;
}

inline void add_section(std::vector<verdict_row>& rows, std::string_view section, const bpfprobe::section& s,
                        const std::string& prefix = {}) {
  for (const auto& f : s) rows.push_back({std::string(section), prefix + f.name, stable(f.v)});
}

// The names of /proc/kallsyms without what comes and goes while the kernel runs: BPF programs,
// trampolines and dispatchers ("[bpf]") and ftrace trampolines ("[__builtin__ftrace]"). Data symbols
// are listed when init_task is (objcheck::shows_kernel_variables).
struct symbol_names {
  bool readable = false, data_listed = false, addresses_visible = false;
  std::vector<std::string> names;
};

inline symbol_names read_kallsyms(std::istream& in) {
  symbol_names s;
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(' '), b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos || b != a + 2) continue;
    auto e = line.find_first_of(" \t", b + 1);
    std::string name = line.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
    auto module = e == std::string::npos ? std::string_view() : std::string_view(line).substr(e + 1);
    while (!module.empty() && (module.front() == ' ' || module.front() == '\t')) module.remove_prefix(1);
    if (!storable_symbol(name) || module == "[bpf]" || module.starts_with("[__builtin")) continue;
    char type = line[a + 1];
    if (objcheck::shows_kernel_variables(type, name)) s.data_listed = true;
    s.addresses_visible |= line.find_first_not_of('0') < a;
    s.names.push_back(std::move(name));
  }
  std::sort(s.names.begin(), s.names.end());
  s.names.erase(std::unique(s.names.begin(), s.names.end()), s.names.end());
  s.readable = !s.names.empty();
  return s;
}

// Rows in the order the reader requires, by (section, name) and unique: a name twice in one section
// (never in a well-formed report) keeps its first verdict.
inline void sort_rows(std::vector<verdict_row>& rows) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) { return a.section == b.section && a.name == b.name; }),
             rows.end());
}

}  // namespace write_detail

// The verdicts of a report, one row per fact as `fact_key` addresses it: the section is the family's
// JSON key and the name its section_name() ("helpers" / "xdp/bpf_redirect", "attach" / "tc/tcx").
inline std::vector<verdict_row> verdict_rows(const report& r) {
  std::vector<verdict_row> rows;
  write_detail::add_section(rows, "program_types", r.program_types);
  write_detail::add_section(rows, "map_types", r.map_types);
  write_detail::add_section(rows, "misc", r.misc);
  write_detail::add_section(rows, "config", r.config);
  for (const auto& [type, s] : r.helpers) write_detail::add_section(rows, "helpers", s, type + "/");
  for (const auto& [name, s] : r.more) write_detail::add_section(rows, name, s);
  for (const auto& c : r.attach) {
    rows.push_back({"attach", c.hook, write_detail::stable(decide::hook_verdict(c))});
    for (const auto& cand : c.candidates)
      rows.push_back({"attach", c.hook + "/" + cand.path, write_detail::stable(cand.v)});
  }
  write_detail::sort_rows(rows);
  return rows;
}

// The prober's own verdicts by its cache keys, in the section "prober": what a prober answering for
// this kernel elsewhere reads (check --target; objcheck::recorded_kernel_of), including what the
// report shows only as attributes (link attach types, kfuncs per program type) and the decide
// layer's attach probes. A key the reader would refuse (spaces, control bytes) is left out.
inline void add_prober_rows(std::vector<verdict_row>& rows,
                            const std::vector<std::pair<std::string, verdict>>& decided) {
  for (const auto& [key, v] : decided) {
    if (printable_word(key, 1024)) rows.push_back({std::string(prober_section), key, write_detail::stable(v)});
  }
  write_detail::sort_rows(rows);
}

// This kernel and privilege set: identity, BTF, kallsyms names, config, lockdown and capabilities.
// The verdicts and the report JSON come from the caller (a full report of the same process; the
// JSON with the evidence of supported verdicts left out, as verdict_rows does).
inline contents from_host(const report& r, std::string report_json, std::string_view tool_version) {
  contents c;
  utsname u{};
  ::uname(&u);
  auto& m = c.meta;
  m["bpfprobe_version"] = write_detail::one_line(tool_version);
  m["catalog"] = BPFPROBE_CATALOG_HASH;
  m["release"] = write_detail::one_line(u.release);
  m["version"] = write_detail::one_line(u.version);
  m["machine"] = write_detail::one_line(u.machine);
  m["euid"] = std::to_string(::geteuid());
  m["caps_effective"] = write_detail::caps_effective();
  m["lockdown"] = write_detail::one_line(probe::persist::detail::slurp("/sys/kernel/security/lockdown"));
  m["unprivileged_bpf_disabled"] =
      write_detail::one_line(probe::persist::detail::slurp("/proc/sys/kernel/unprivileged_bpf_disabled"));

  c.verdicts = verdict_rows(r);
  c.report_json = std::move(report_json);

  c.vmlinux_btf = write_detail::read_all("/sys/kernel/btf/vmlinux", max_raw_size(section_id::vmlinux_btf));
  m["vmlinux_btf"] = c.vmlinux_btf ? "present" : "absent";
  if (DIR* d = ::opendir("/sys/kernel/btf")) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || name == "vmlinux") continue;
      if (auto raw = write_detail::read_all("/sys/kernel/btf/" + name, max_raw_size(section_id::module_btf)))
        c.module_btf.emplace(name, std::move(*raw));
    }
    ::closedir(d);
  }

  std::ifstream kallsyms("/proc/kallsyms");
  auto syms = write_detail::read_kallsyms(kallsyms);
  c.kallsyms = std::move(syms.names);
  m["kallsyms"] = syms.readable ? "listed" : "unreadable";
  m["kallsyms_data_symbols"] = syms.data_listed ? "1" : "0";
  // Whether the writer saw real addresses (root, kptr_restrict): the addresses themselves are never kept.
  m["kallsyms_addresses"] = !syms.readable ? "unknown" : syms.addresses_visible ? "visible" : "hidden";

  auto config = probe::read_kernel_config(u.release);
  m["config_source"] = config.source.empty() ? "none" : config.source;
  c.config = std::move(config.values);
  return c;
}

// The file's bytes: the same contents give the same bytes (with the same libzstd).
inline std::optional<std::string> serialize(const contents& c) {
  std::vector<std::pair<section_id, std::string>> raw;
  std::string meta;
  for (const auto& [k, v] : c.meta) meta += k + "=" + v + "\n";
  raw.emplace_back(section_id::meta, std::move(meta));
  std::string rows;
  detail::put_le(rows, c.verdicts.size(), 4);
  for (const auto& r : c.verdicts) {
    detail::put_str(rows, r.section);
    detail::put_str(rows, r.name);
    detail::put_le(rows, static_cast<std::uint8_t>(r.v.state), 1);
    detail::put_le(rows, static_cast<std::uint32_t>(r.v.err), 4);
    detail::put_str(rows, std::string_view(r.v.reason).substr(0, max_string));
    detail::put_str(rows, std::string_view(r.v.evidence).substr(0, max_string));
  }
  raw.emplace_back(section_id::verdicts, std::move(rows));
  if (!c.report_json.empty()) raw.emplace_back(section_id::report_json, c.report_json);
  if (c.vmlinux_btf) raw.emplace_back(section_id::vmlinux_btf, *c.vmlinux_btf);
  if (!c.module_btf.empty()) {
    std::string mods;
    detail::put_le(mods, c.module_btf.size(), 4);
    for (const auto& [name, btf] : c.module_btf) {
      detail::put_str(mods, name);
      detail::put_le(mods, btf.size(), 8);
      mods += btf;
    }
    raw.emplace_back(section_id::module_btf, std::move(mods));
  }
  std::string names;
  for (const auto& n : c.kallsyms) names += n + "\n";
  raw.emplace_back(section_id::kallsyms, std::move(names));
  std::string config;
  for (const auto& [k, v] : c.config) config += k + "=" + v + "\n";
  raw.emplace_back(section_id::config, std::move(config));

  std::string out(magic, sizeof magic);
  detail::put_le(out, format_version, 4);
  detail::put_le(out, raw.size(), 4);
  for (const auto& [id, bytes] : raw) {
    if (bytes.size() > max_raw_size(id)) return std::nullopt;
    auto packed = compress(bytes);
    if (!packed) return std::nullopt;
    detail::put_le(out, static_cast<std::uint32_t>(id), 4);
    detail::put_le(out, static_cast<std::uint32_t>(codec::zstd), 4);
    detail::put_le(out, bytes.size(), 8);
    detail::put_le(out, packed->size(), 8);
    out += *packed;
  }
  if (out.size() > max_file_size) return std::nullopt;
  return out;
}

// Writes `bytes` to `path` through a temporary file in the same directory, renamed into place: the
// file appears whole or not at all. The temporary file is claimed with the janitor before it is made,
// so a process killed while writing leaves none. Returns an error line, empty on success.
inline std::string write_file(const std::filesystem::path& path, const std::string& bytes) {
  // Absolute: the janitor that removes it after a kill has a working directory of its own.
  std::error_code ec;
  auto dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec) return "cannot write " + path.string() + " (" + sys::errno_name(ec.value()) + ")";
  std::random_device rd;
  auto tmp = (dir / (".bpfprobe-snapshot-" + sys::janitor::owner_tag() + "-" + std::to_string(rd()))).string();
  auto claim = sys::janitor::make_claim(sys::janitor::kind::temp_file, tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot create a file in " + dir.string() + " (" + sys::errno_name(errno) + ")";
  std::size_t done = probe::persist::transfer_all(
      bytes.size(), [&](std::size_t at) { return ::write(fd, bytes.data() + at, bytes.size() - at); });
  int write_errno = done == bytes.size() ? 0 : (errno ? errno : EIO);
  if (::close(fd) != 0 && write_errno == 0) write_errno = errno;
  if (write_errno == 0 && ::rename(tmp.c_str(), path.c_str()) == 0) return {};
  if (write_errno == 0) write_errno = errno;
  ::unlink(tmp.c_str());
  return "cannot write " + path.string() + " (" + sys::errno_name(write_errno) + ")";
}

}  // namespace bpfprobe::snapshot
