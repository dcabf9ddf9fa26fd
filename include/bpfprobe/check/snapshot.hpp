// Reading a kernel snapshot (docs/snapshot.md), for a static check of another kernel. The file is
// hostile input: every size is bounded before anything is allocated for it, every count and string is
// checked against what is left, decompression never makes more than the section header announced
// (within the format's limits), and every section's contents are validated (sorted, unique, names and
// values of the allowed characters, BTF parsed by libbpf). Anything else is one error line.
#pragma once

#include <bpf/btf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/btf/names.hpp>
#include <bpfprobe/check/snapshot_format.hpp>
#include <bpfprobe/check/trampoline_target.hpp>
#include <bpfprobe/probe/fact_key.hpp>
#include <bpfprobe/probe/kernel_info.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

namespace bpfprobe::snapshot {

// The exit code of a command given a snapshot it cannot read (docs/cli.md: bad input).
inline constexpr int exit_bad_snapshot = 2;

struct btf_deleter {
  void operator()(struct btf* b) const noexcept { btf__free(b); }
};
using btf_ptr = std::unique_ptr<struct btf, btf_deleter>;

struct stored_verdict {
  std::string section, name;
  verdict v;
};

struct section_size {
  std::string name;
  std::uint64_t raw = 0, stored = 0;
};

class kernel_snapshot {
 public:
  using parsed = std::variant<kernel_snapshot, std::string>;  // the snapshot, or one error line

  static parsed parse(std::string_view data);
  static parsed load(const std::filesystem::path& path);

  kernel_snapshot(kernel_snapshot&&) noexcept = default;
  kernel_snapshot& operator=(kernel_snapshot&&) noexcept = default;
  // Module BTFs are split on vmlinux BTF: they go first.
  ~kernel_snapshot() {
    modules_.clear();
    vmlinux_.reset();
  }

  // "key=value" facts of the kernel and the writer: release, version, machine, euid, caps_effective,
  // lockdown, unprivileged_bpf_disabled, catalog, bpfprobe_version, kallsyms*, config_source, ...
  [[nodiscard]] const std::map<std::string, std::string, std::less<>>& meta() const noexcept { return meta_; }
  [[nodiscard]] std::string meta_value(std::string_view key) const {
    auto it = meta_.find(key);
    return it == meta_.end() ? std::string() : it->second;
  }
  [[nodiscard]] std::string release() const { return meta_value("release"); }
  [[nodiscard]] std::string version() const { return meta_value("version"); }
  [[nodiscard]] std::string machine() const { return meta_value("machine"); }

  // The verdict the writer's report had for this key; nullopt when the report had none.
  [[nodiscard]] std::optional<verdict> verdict_of(std::string_view section, std::string_view name) const {
    auto it = std::lower_bound(verdicts_.begin(), verdicts_.end(), 0, [&](const stored_verdict& r, int) {
      return r.section < section || (r.section == section && r.name < name);
    });
    if (it == verdicts_.end() || it->section != section || it->name != name) return std::nullopt;
    return it->v;
  }
  [[nodiscard]] std::optional<verdict> verdict_of(const fact_key& key) const {
    return verdict_of(spelling(key.family).section, key.section_name());
  }
  [[nodiscard]] const std::vector<stored_verdict>& verdicts() const noexcept { return verdicts_; }

  // vmlinux BTF (nullptr when the kernel had none) and the module BTFs split on it.
  [[nodiscard]] const struct btf* vmlinux_btf() const noexcept { return vmlinux_.get(); }
  [[nodiscard]] const struct btf* module_btf(std::string_view name) const {
    auto it = modules_.find(name);
    return it == modules_.end() ? nullptr : it->second.get();
  }
  [[nodiscard]] const std::map<std::string, btf_ptr, std::less<>>& module_btfs() const noexcept { return modules_; }

  // The names of /proc/kallsyms as objcheck::kernel_symbols reads them from the running kernel.
  [[nodiscard]] const objcheck::kernel_symbols& kallsyms() const noexcept { return syms_; }
  [[nodiscard]] bool data_symbols_listed() const noexcept { return syms_.data_listed; }

  // The kernel config (source empty when the writer found none) as probe::read_kernel_config gives it.
  [[nodiscard]] const probe::kernel_config& config() const noexcept { return config_; }

  [[nodiscard]] std::string_view report_json() const noexcept { return report_json_; }

  // The sections as stored, in file order (unknown ids included).
  [[nodiscard]] const std::vector<section_size>& sizes() const noexcept { return sizes_; }

 private:
  kernel_snapshot() = default;

  std::map<std::string, std::string, std::less<>> meta_;
  std::vector<stored_verdict> verdicts_;
  btf_ptr vmlinux_;
  std::map<std::string, btf_ptr, std::less<>> modules_;
  objcheck::kernel_symbols syms_;
  probe::kernel_config config_;
  std::string report_json_;
  std::vector<section_size> sizes_;

  friend struct reader;
};

struct reader {
  kernel_snapshot s;
  std::string error;

  bool fail(std::string_view section, const std::string& why) {
    if (error.empty()) error = std::string(section) + ": " + why;
    return false;
  }

  static bool word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
  static bool printable(std::string_view v, bool tabs_and_newlines = false) {
    for (unsigned char c : v)
      if ((c < 0x20 && !(tabs_and_newlines && (c == '\t' || c == '\n'))) || c == 0x7f) return false;
    return true;
  }

  // Text sections: lines "key=value", every line ended, keys strictly increasing.
  template <class KeyOk, class Add>
  bool lines(std::string_view section, std::string_view text, KeyOk key_ok, Add add) {
    if (!text.empty() && text.back() != '\n') return fail(section, "last line not ended");
    std::string_view last;
    for (std::size_t line = 1; !text.empty(); ++line) {
      auto nl = text.find('\n');
      auto l = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      auto eq = l.find('=');
      std::string at = "line " + std::to_string(line);
      if (eq == std::string_view::npos) return fail(section, at + ": no '='");
      auto k = l.substr(0, eq), v = l.substr(eq + 1);
      if (!key_ok(k)) return fail(section, at + ": bad name \"" + btf::escape(k, 80) + "\"");
      if (v.size() > 4096 || !printable(v)) return fail(section, at + ": bad value for " + std::string(k));
      if (!last.empty() && k <= last) return fail(section, at + ": " + std::string(k) + " out of order or repeated");
      last = k;
      add(k, v);
    }
    return true;
  }

  bool meta(std::string_view text) {
    auto key_ok = [](std::string_view k) {
      return !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) { return word_char(c); });
    };
    if (!lines("meta", text, key_ok, [&](auto k, auto v) { s.meta_.emplace(std::string(k), std::string(v)); }))
      return false;
    for (const char* k : {"release", "version", "machine", "catalog", "bpfprobe_version", "kallsyms",
                          "kallsyms_data_symbols", "config_source"})
      if (!s.meta_.contains(std::string_view(k))) return fail("meta", std::string("no ") + k);
    return true;
  }

  bool config(std::string_view text) {
    auto key_ok = [](std::string_view k) {
      return k.size() > 7 && k.size() <= 256 && k.starts_with("CONFIG_") &&
             std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    };
    if (!lines("config", text, key_ok,
               [&](auto k, auto v) { s.config_.values.emplace(std::string(k), std::string(v)); }))
      return false;
    auto src = s.meta_value("config_source");
    s.config_.source = src == "none" ? std::string() : src;
    if (s.config_.source.empty() && !s.config_.values.empty()) return fail("config", "values but config_source=none");
    return true;
  }

  bool verdicts(std::string_view data) {
    detail::cursor c(data);
    constexpr std::size_t min_row = 4 + 4 + 1 + 4 + 4 + 4;
    std::uint32_t n = c.u32();
    if (!c.ok() || static_cast<std::uint64_t>(n) * min_row > c.left())
      return fail("verdicts", "count " + std::to_string(n) + " does not fit the section");
    s.verdicts_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string at = "row " + std::to_string(i);
      auto sec = c.str(), name = c.str();
      std::uint8_t st = c.u8();
      auto err = static_cast<int>(c.u32());
      auto reason = c.str(), evidence = c.str();
      if (!c.ok()) return fail("verdicts", at + ": truncated");
      if (sec.empty() || sec.size() > 64 || !std::all_of(sec.begin(), sec.end(), [](char ch) { return word_char(ch); }))
        return fail("verdicts", at + ": bad section name \"" + btf::escape(sec, 80) + "\"");
      if (name.empty() || name.size() > 1024 || !printable(name) || name.find(' ') != std::string_view::npos)
        return fail("verdicts", at + ": bad fact name \"" + btf::escape(name, 80) + "\"");
      if (st > 2) return fail("verdicts", at + ": status " + std::to_string(st));
      if (err < 0 || err > 4095) return fail("verdicts", at + ": errno " + std::to_string(err));
      if (!printable(reason, true) || !printable(evidence, true))
        return fail("verdicts", at + ": control characters in reason or evidence");
      if (!s.verdicts_.empty() && std::tie(s.verdicts_.back().section, s.verdicts_.back().name) >=
                                      std::make_tuple(std::string(sec), std::string(name)))
        return fail("verdicts", at + ": out of order or repeated");
      verdict v;
      v.state = static_cast<status>(st);
      v.err = err;
      v.reason = std::string(reason);
      v.evidence = std::string(evidence);
      s.verdicts_.push_back({std::string(sec), std::string(name), std::move(v)});
    }
    if (c.left() != 0) return fail("verdicts", std::to_string(c.left()) + " bytes after the last row");
    return true;
  }

  bool vmlinux(const std::string& raw) {
    auto b = btf::kernel_btf::parse_raw(raw.data(), raw.size());
    if (!b) return fail("vmlinux_btf", b.error().describe());
    s.vmlinux_.reset(b.value());
    return true;
  }

  bool modules(std::string_view data) {
    if (!s.vmlinux_) return fail("module_btf", "module BTF without vmlinux BTF");
    detail::cursor c(data);
    std::uint32_t n = c.u32();
    if (!c.ok() || n > max_modules || static_cast<std::uint64_t>(n) * 12 > c.left())
      return fail("module_btf", "count " + std::to_string(n) + " does not fit the section");
    std::string last;
    for (std::uint32_t i = 0; i < n; ++i) {
      auto name = c.str(64);
      std::uint64_t size = c.u64();
      if (!c.ok() || size > c.left()) return fail("module_btf", "module " + std::to_string(i) + ": truncated");
      auto bytes = c.bytes(size);
      bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char ch) {
        return std::isalnum(ch) || ch == '_' || ch == '-';
      });
      if (!name_ok) return fail("module_btf", "bad module name \"" + btf::escape(name, 80) + "\"");
      if (!last.empty() && name <= last) return fail("module_btf", std::string(name) + " out of order or repeated");
      last = std::string(name);
      errno = 0;
      struct btf* b = btf__new_split(bytes.data(), static_cast<__u32>(bytes.size()), s.vmlinux_.get());
      if (!b || libbpf_get_error(b)) return fail("module_btf", last + ": not valid split BTF");
      s.modules_.emplace(last, btf_ptr(b));
    }
    if (c.left() != 0) return fail("module_btf", std::to_string(c.left()) + " bytes after the last module");
    return true;
  }

  bool kallsyms(std::string_view text) {
    auto& k = s.syms_;
    auto listed = s.meta_value("kallsyms");
    if (listed != "listed" && listed != "unreadable") return fail("meta", "kallsyms must be listed or unreadable");
    auto data = s.meta_value("kallsyms_data_symbols");
    if (data != "0" && data != "1") return fail("meta", "kallsyms_data_symbols must be 0 or 1");
    if (!text.empty() && text.back() != '\n') return fail("kallsyms", "last line not ended");
    std::string_view last;
    for (std::size_t line = 1; !text.empty(); ++line) {
      auto nl = text.find('\n');
      auto name = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      if (!storable_symbol(name))
        return fail("kallsyms", "line " + std::to_string(line) + ": bad name \"" + btf::escape(name, 80) + "\"");
      if (!last.empty() && name <= last)
        return fail("kallsyms", "line " + std::to_string(line) + ": out of order or repeated");
      last = name;
      k.names.emplace(std::string(name));
    }
    k.readable = listed == "listed";
    if (k.readable == k.names.empty()) return fail("kallsyms", "names do not agree with kallsyms=" + listed);
    k.data_listed = data == "1";
    if (!k.readable)
      k.problem = "/proc/kallsyms could not be read where the snapshot was made";
    else if (s.meta_value("kallsyms_addresses") == "hidden")
      k.problem = "/proc/kallsyms showed only zero addresses where the snapshot was made (kptr_restrict)";
    return true;
  }

  bool section(std::uint32_t id, std::string raw) {
    switch (static_cast<section_id>(id)) {
      case section_id::meta: return meta(raw);
      case section_id::verdicts: return verdicts(raw);
      case section_id::report_json: s.report_json_ = std::move(raw); return true;
      case section_id::vmlinux_btf: return vmlinux(raw);
      case section_id::module_btf: return modules(raw);
      case section_id::kallsyms: return kallsyms(raw);
      case section_id::config: return config(raw);
    }
    return true;  // a newer optional section: skipped
  }

  bool run(std::string_view data) {
    detail::cursor c(data);
    if (data.size() > max_file_size) return fail("file", "larger than " + std::to_string(max_file_size) + " bytes");
    if (c.bytes(sizeof magic) != std::string_view(magic, sizeof magic))
      return fail("file", "not a bpfprobe kernel snapshot (bad magic)");
    std::uint32_t version = c.u32(), count = c.u32();
    if (!c.ok()) return fail("file", "truncated header");
    if (version != format_version)
      return fail("file", "format version " + std::to_string(version) + "; this bpfprobe reads version " +
                              std::to_string(format_version));
    if (count > max_sections)
      return fail("file", std::to_string(count) + " sections (at most " + std::to_string(max_sections) + ")");
    std::uint32_t last_id = 0;
    std::uint64_t total_raw = 0;
    std::uint32_t seen = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t id = c.u32(), how = c.u32();
      std::uint64_t raw_size = c.u64(), stored_size = c.u64();
      std::string name =
          std::string(section_name(id)) + (section_name(id) == "unknown" ? " " + std::to_string(id) : "");
      if (!c.ok()) return fail(name, "truncated section header");
      if (id <= last_id) return fail(name, "out of order or repeated");
      last_id = id;
      if (how != static_cast<std::uint32_t>(codec::stored) && how != static_cast<std::uint32_t>(codec::zstd))
        return fail(name, "unknown codec " + std::to_string(how));
      if (raw_size > max_raw_size(static_cast<section_id>(id)))
        return fail(name, "claims " + std::to_string(raw_size) + " bytes, more than the limit " +
                              std::to_string(max_raw_size(static_cast<section_id>(id))));
      if ((total_raw += raw_size) > max_total_raw) return fail(name, "sections claim more than the total limit");
      if (stored_size > c.left())
        return fail(name, "truncated: " + std::to_string(stored_size) + " bytes stored, " + std::to_string(c.left()) +
                              " left in the file");
      auto stored = c.bytes(stored_size);
      s.sizes_.push_back({name, raw_size, stored_size});
      if (section_name(id) == "unknown") continue;
      std::string raw;
      if (how == static_cast<std::uint32_t>(codec::stored)) {
        if (stored_size != raw_size) return fail(name, "stored size differs from the raw size");
        raw = std::string(stored);
      } else {
        std::string why;
        auto out = decompress(stored, raw_size, why);
        if (!out) return fail(name, why);
        raw = std::move(*out);
      }
      seen |= 1u << id;
      if (!section(id, std::move(raw))) return false;
    }
    if (c.left() != 0) return fail("file", std::to_string(c.left()) + " bytes after the last section");
    for (auto id : {section_id::meta, section_id::verdicts, section_id::kallsyms, section_id::config})
      if (!(seen & (1u << static_cast<std::uint32_t>(id))))
        return fail(section_name(static_cast<std::uint32_t>(id)), "missing");
    if (s.meta_value("vmlinux_btf") == "present" && !s.vmlinux_) return fail("vmlinux_btf", "missing");
    return true;
  }
};

inline kernel_snapshot::parsed kernel_snapshot::parse(std::string_view data) {
  reader r;
  if (!r.run(data)) return r.error;
  return std::move(r.s);
}

inline kernel_snapshot::parsed kernel_snapshot::load(const std::filesystem::path& path) {
  std::string shown = btf::escape(path.native(), 200);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return shown + ": " + sys::errno_name(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_it{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return shown + ": " + sys::errno_name(errno);
  if (!S_ISREG(st.st_mode)) return shown + ": not a regular file";
  if (static_cast<std::uint64_t>(st.st_size) > max_file_size)
    return shown + ": larger than " + std::to_string(max_file_size) + " bytes";
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return shown + ": " + sys::errno_name(errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  data.resize(done);
  auto r = parse(data);
  if (auto* e = std::get_if<std::string>(&r)) return shown + ": " + *e;
  return r;
}

}  // namespace bpfprobe::snapshot
