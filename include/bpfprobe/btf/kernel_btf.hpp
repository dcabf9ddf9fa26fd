// The running kernel's facts from its own BTF: enums, FUNCs, decl tags, struct members.
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <bpfprobe/btf/builtin_enums.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::btf {

inline constexpr const char* vmlinux_path = "/sys/kernel/btf/vmlinux";

struct btf_deleter {
  void operator()(struct btf* b) const noexcept { btf__free(b); }
};
using btf_ptr = std::unique_ptr<struct btf, btf_deleter>;

// One enumerator with the prefix stripped and lower-cased: BPF_PROG_TYPE_XDP -> "xdp".
struct entry {
  std::string name;
  std::int64_t value;
  friend bool operator==(const entry&, const entry&) = default;
};

inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

class kernel_btf {
 public:
  // vmlinux BTF of the running kernel, or an explicit file (raw BTF or an ELF with .BTF).
  static sys::result<kernel_btf> open(const std::filesystem::path& path = vmlinux_path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      return sys::failure_msg("open BTF " + path.string(), "no such file", ENOENT);
    errno = 0;
    struct btf* raw = btf__parse(path.c_str(), nullptr);
    int err = static_cast<int>(-libbpf_get_error(raw));
    if (!raw || err) {
      if (raw == nullptr && err == 0) err = errno ? errno : EINVAL;
      if (err >= 4000) err = EINVAL;  // libbpf's own format errors
      return sys::failure_msg("parse BTF " + path.string(), "not valid BTF or ELF with .BTF", err);
    }
    kernel_btf k;
    k.btf_.reset(raw);
    k.path_ = path.string();
    return k;
  }

  // Split BTF of a kernel module on top of this (base) BTF.
  sys::result<kernel_btf> open_module(const std::filesystem::path& path) const {
    errno = 0;
    struct btf* raw = btf__parse_split(path.c_str(), btf_.get());
    int err = static_cast<int>(-libbpf_get_error(raw));
    if (!raw || err) {
      if (err == 0) err = errno ? errno : EINVAL;
      if (err >= 4000) err = EINVAL;
      return sys::failure_msg("parse module BTF " + path.string(), "not valid split BTF", err);
    }
    kernel_btf k;
    k.btf_.reset(raw);
    k.path_ = path.string();
    return k;
  }

  [[nodiscard]] const struct btf* get() const noexcept { return btf_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name, int kind) const {
    std::string n(name);
    int id = btf__find_by_name_kind(btf_.get(), n.c_str(), kind);
    if (id <= 0) return std::nullopt;
    return static_cast<std::uint32_t>(id);
  }
  [[nodiscard]] std::optional<std::uint32_t> find_func(std::string_view name) const {
    return find(name, BTF_KIND_FUNC);
  }
  [[nodiscard]] std::optional<std::uint32_t> find_struct(std::string_view name) const {
    return find(name, BTF_KIND_STRUCT);
  }

  [[nodiscard]] std::string_view name_of(std::uint32_t id) const {
    const btf_type* t = btf__type_by_id(btf_.get(), id);
    if (!t) return {};
    const char* n = btf__name_by_offset(btf_.get(), t->name_off);
    return n ? std::string_view(n) : std::string_view();
  }

  // Enumerators of `enum <enum_name>` whose names start with `prefix`, prefix stripped and lower-cased.
  // UNSPEC, __MAX_* and aliases of an earlier value (the *_DEPRECATED names) are dropped.
  [[nodiscard]] std::vector<entry> enumerators(std::string_view enum_name, std::string_view prefix) const {
    std::vector<entry> out;
    auto id = find(enum_name, BTF_KIND_ENUM);
    if (!id) id = find(enum_name, BTF_KIND_ENUM64);
    if (!id) return out;
    const btf_type* t = btf__type_by_id(btf_.get(), *id);
    std::set<std::int64_t> seen;
    auto add = [&](const char* raw_name, std::int64_t value) {
      std::string_view n = raw_name ? raw_name : "";
      if (!n.starts_with(prefix)) return;
      n.remove_prefix(prefix.size());
      if (lower(n) == "unspec" || n.starts_with("__") || n.find("DEPRECATED") != std::string_view::npos) return;
      if (!seen.insert(value).second) return;
      out.push_back({lower(n), value});
    };
    if (btf_is_enum(t)) {
      const struct btf_enum* e = btf_enum(t);
      for (unsigned i = 0; i < btf_vlen(t); ++i)
        add(btf__name_by_offset(btf_.get(), e[i].name_off), static_cast<std::int64_t>(e[i].val));
    } else {
      const struct btf_enum64* e = btf_enum64(t);
      for (unsigned i = 0; i < btf_vlen(t); ++i)
        add(btf__name_by_offset(btf_.get(), e[i].name_off), static_cast<std::int64_t>(btf_enum64_value(&e[i])));
    }
    return out;
  }

  // FUNC ids carrying `decl_tag("<tag>")` on the function itself (component_idx == -1).
  [[nodiscard]] std::vector<std::uint32_t> tagged_funcs(std::string_view tag) const {
    std::vector<std::uint32_t> out;
    const struct btf* base = btf__base_btf(btf_.get());
    std::uint32_t start = base ? btf__type_cnt(base) : 1;
    for (std::uint32_t id = start; id < btf__type_cnt(btf_.get()); ++id) {
      const btf_type* t = btf__type_by_id(btf_.get(), id);
      if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1) continue;
      if (std::string_view(btf__name_by_offset(btf_.get(), t->name_off)) != tag) continue;
      const btf_type* target = btf__type_by_id(btf_.get(), t->type);
      if (target && btf_is_func(target)) out.push_back(t->type);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Index of a struct member by name, or nullopt.
  [[nodiscard]] std::optional<unsigned> member_index(std::uint32_t struct_id, std::string_view member) const {
    const btf_type* t = btf__type_by_id(btf_.get(), struct_id);
    if (!t || !btf_is_composite(t)) return std::nullopt;
    const btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i)
      if (std::string_view(btf__name_by_offset(btf_.get(), m[i].name_off)) == member) return i;
    return std::nullopt;
  }

  [[nodiscard]] std::optional<std::uint32_t> type_size(std::uint32_t id) const {
    long sz = btf__resolve_size(btf_.get(), id);
    if (sz < 0) return std::nullopt;
    return static_cast<std::uint32_t>(sz);
  }

 private:
  btf_ptr btf_;
  std::string path_;
};

// The enum tables probes iterate: from the kernel's BTF when there is one, else built-in.
struct kernel_enums {
  std::vector<entry> prog_types, map_types, attach_types, link_types, helpers;
  bool from_btf = false;
  std::string source;  // BTF path, or why the built-in tables are used

  [[nodiscard]] static std::optional<std::int64_t> value_of(const std::vector<entry>& table, std::string_view name) {
    for (const auto& e : table)
      if (e.name == name) return e.value;
    return std::nullopt;
  }
  [[nodiscard]] static std::string name_of(const std::vector<entry>& table, std::int64_t value) {
    for (const auto& e : table)
      if (e.value == value) return e.name;
    return {};
  }
};

namespace detail {
inline std::vector<entry> to_entries(std::span<const named_value> rows) {
  std::vector<entry> out;
  for (const auto& r : rows) out.push_back({std::string(r.name), r.value});
  return out;
}
}  // namespace detail

inline kernel_enums enums_from(const kernel_btf& k) {
  kernel_enums e;
  e.prog_types = k.enumerators("bpf_prog_type", "BPF_PROG_TYPE_");
  e.map_types = k.enumerators("bpf_map_type", "BPF_MAP_TYPE_");
  e.attach_types = k.enumerators("bpf_attach_type", "BPF_");
  e.link_types = k.enumerators("bpf_link_type", "BPF_LINK_TYPE_");
  for (auto& h : k.enumerators("bpf_func_id", "BPF_FUNC_")) e.helpers.push_back({"bpf_" + h.name, h.value});
  e.from_btf = true;
  e.source = k.path();
  return e;
}

inline kernel_enums builtin_enums(std::string why) {
  kernel_enums e;
  e.prog_types = detail::to_entries(builtin_prog_types);
  e.map_types = detail::to_entries(builtin_map_types);
  e.attach_types = detail::to_entries(builtin_attach_types);
  e.link_types = detail::to_entries(builtin_link_types);
  e.helpers = detail::to_entries(builtin_helpers());
  e.from_btf = false;
  e.source = std::move(why);
  return e;
}

}  // namespace bpfprobe::btf
