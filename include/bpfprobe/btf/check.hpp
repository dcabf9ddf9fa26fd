// Checks for a BTF file the user names (--btf): every name that could reach output is a C
// identifier, and the BPF uapi enums carry the values this build and the running kernel give them
// (enum values are ABI: a file that disagrees would make every probe ask about the wrong thing).
#pragma once

#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/btf/names.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace bpfprobe::btf {

// The first name in `k` that no sane BTF has, described with the name escaped; nullopt when all
// are fine. Names of types, members, parameters and enumerators are C identifiers (INT and FLOAT:
// C type words such as "long unsigned int"); VAR, DATASEC and tag names never reach output.
inline std::optional<std::string> find_bad_name(const kernel_btf& k) {
  const struct btf* b = k.get();
  auto name_at = [&](std::uint32_t off) {
    const char* n = btf__name_by_offset(b, off);
    return n ? std::string_view(n) : std::string_view();
  };
  auto bad = [&](std::uint32_t id, std::string_view what, std::string_view name) {
    return "type [" + std::to_string(id) + "] " + std::string(what) + " name \"" + escape(name) +
           "\" is not a C identifier";
  };
  for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) return "type [" + std::to_string(id) + "] cannot be read";
    std::string_view name = name_at(t->name_off);
    switch (btf_kind(t)) {
      case BTF_KIND_INT:
      case BTF_KIND_FLOAT:
        if (!name.empty() && !is_type_words(name)) return bad(id, "type", name);
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        if (!name.empty() && !is_identifier(name)) return bad(id, "struct/union", name);
        const btf_member* m = btf_members(t);
        for (unsigned i = 0; i < btf_vlen(t); ++i)
          if (auto n = name_at(m[i].name_off); !n.empty() && !is_identifier(n)) return bad(id, "member", n);
        break;
      }
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        if (!name.empty() && !is_identifier(name)) return bad(id, "enum", name);
        for (const auto& e : k.raw_enumerators_of(id))
          if (!is_identifier(e.name))
            return "enum " + (name.empty() ? std::string("(anon)") : std::string(name)) + ": enumerator \"" +
                   escape(e.name) + "\" is not a C identifier";
        break;
      }
      case BTF_KIND_FUNC_PROTO: {
        const btf_param* p = btf_params(t);
        for (unsigned i = 0; i < btf_vlen(t); ++i)
          if (auto n = name_at(p[i].name_off); !n.empty() && !is_identifier(n)) return bad(id, "parameter", n);
        break;
      }
      case BTF_KIND_FWD:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_FUNC:
        if (!name.empty() && !is_identifier(name)) return bad(id, "type", name);
        break;
      default: break;
    }
  }
  return std::nullopt;
}

// One uapi enum as bpfprobe reads it: BTF enum name, enumerator prefix, the values this build knows.
struct abi_enum {
  std::string_view btf_name;
  std::string_view prefix;
  std::map<std::string, std::int64_t> build;  // stripped, lower-cased name -> value
  bool helpers = false;                       // BPF_FUNC_<name> keeps its lower-case spelling
  [[nodiscard]] std::string spelled(const std::string& stripped) const {
    std::string s(stripped);
    if (!helpers)
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return std::string(prefix) + s;
  }
};

inline std::vector<abi_enum> abi_enums() {
  kernel_enums b = builtin_enums({});
  auto table = [](const std::vector<entry>& rows, std::string_view strip = {}) {
    std::map<std::string, std::int64_t> m;
    for (const auto& r : rows) m.emplace(r.name.substr(r.name.starts_with(strip) ? strip.size() : 0), r.value);
    return m;
  };
  // The uapi aliases (6.2) carry the value of the name they deprecate.
  auto maps = table(b.map_types);
  maps.emplace("cgroup_storage_deprecated", maps.at("cgroup_storage"));
  maps.emplace("percpu_cgroup_storage_deprecated", maps.at("percpu_cgroup_storage"));
  return {{"bpf_prog_type", "BPF_PROG_TYPE_", table(b.prog_types)},
          {"bpf_map_type", "BPF_MAP_TYPE_", std::move(maps)},
          {"bpf_attach_type", "BPF_", table(b.attach_types)},
          {"bpf_link_type", "BPF_LINK_TYPE_", table(b.link_types)},
          {"bpf_func_id", "BPF_FUNC_", table(b.helpers, "bpf_"), true}};
}

namespace detail {

// Stripped, lower-cased name -> value of every enumerator with the prefix (first one wins).
inline std::map<std::string, std::int64_t> enum_by_name(const std::vector<kernel_btf::raw_enumerator>& raw,
                                                        std::string_view prefix) {
  std::map<std::string, std::int64_t> out;
  for (const auto& e : raw)
    if (is_identifier(e.name) && e.name.starts_with(prefix)) out.emplace(lower(e.name.substr(prefix.size())), e.value);
  return out;
}

// Names the probes use: not UNSPEC, __MAX_*, or a *_DEPRECATED alias.
inline bool probed_name(const std::string& stripped) {
  return stripped != "unspec" && !stripped.starts_with("__") && stripped.find("deprecated") == std::string::npos;
}

// `file` against a reference (`ref`, named `ref_what`): the same name must carry the same value, and
// a name the reference lacks must not carry a value the reference gives to a name the file does
// not use for it (a renamed enumerator: BPF_PROG_TYPE_XDP spelled otherwise).
inline std::optional<std::string> compare_enum(const kernel_btf& file, const abi_enum& e,
                                               const std::map<std::string, std::int64_t>& ref,
                                               const std::string& ref_what) {
  auto raw = file.raw_enumerators(e.btf_name);
  if (!raw) return std::nullopt;                // an enum the file lacks comes from the built-in table
  for (const auto& [raw_name, value] : *raw) {  // every occurrence: a name may be repeated
    if (!is_identifier(raw_name) || !raw_name.starts_with(e.prefix)) continue;
    std::string name = lower(raw_name.substr(e.prefix.size()));
    if (!name.empty() && !is_identifier(name))  // the probes and the report name it without the prefix
      return "enum " + std::string(e.btf_name) + ": enumerator " + std::string(raw_name) + ": \"" + name + "\" after " +
             std::string(e.prefix) + " is not a C identifier";
    auto it = ref.find(name);
    if (it != ref.end() && it->second != value)
      return "enum " + std::string(e.btf_name) + ": " + e.spelled(name) + " is " + std::to_string(value) +
             " in this file but " + std::to_string(it->second) + " in " + ref_what;
  }
  std::map<std::int64_t, std::string> ref_by_value;
  for (const auto& [name, value] : ref)
    if (probed_name(name)) ref_by_value.emplace(value, name);
  // The first name carrying a value is the one the probes use (later ones are aliases): it must
  // be the reference's name for that value, or one the reference does not know at all.
  std::set<std::int64_t> carried;
  for (const auto& [raw_name, value] : *raw) {
    if (!is_identifier(raw_name) || !raw_name.starts_with(e.prefix)) continue;
    std::string name = lower(raw_name.substr(e.prefix.size()));
    if (name.find("deprecated") != std::string::npos || !carried.insert(value).second) continue;
    auto it = ref_by_value.find(value);
    if (it == ref_by_value.end() || it->second == name || ref.contains(name)) continue;
    return "enum " + std::string(e.btf_name) + ": value " + std::to_string(value) + " is " + btf::escape(raw_name) +
           " in this file but " + e.spelled(it->second) + " in " + ref_what + " (renamed or missing)";
  }
  return std::nullopt;
}

}  // namespace detail

// Mismatches of the uapi enums in `file` against this build's values and, when given, against the
// running kernel's BTF; nullopt when they agree. Names only one side has are fine (an older
// kernel's BTF lacks newer names; a newer one has names this build does not know).
inline std::optional<std::string> check_abi(const kernel_btf& file, const kernel_btf* running) {
  for (const auto& e : abi_enums()) {
    if (auto m = detail::compare_enum(file, e, e.build, "bpfprobe's uapi headers")) return m;
    if (!running) continue;
    auto raw = running->raw_enumerators(e.btf_name);
    if (!raw) continue;
    if (auto m = detail::compare_enum(file, e, detail::enum_by_name(*raw, e.prefix),
                                      "the running kernel's BTF (" + running->path() + ")"))
      return m;
  }
  return std::nullopt;
}

// Opens a BTF file the user named and checks it: a regular file, valid BTF, sane names, and uapi
// enum values that agree with this build and with `running` (the running kernel's BTF, if any).
inline sys::result<kernel_btf> open_checked(const std::filesystem::path& path, const kernel_btf* running) {
  auto k = kernel_btf::open(path);
  if (!k) return k.error();
  std::string what = "check BTF " + escape(path.native(), 200);
  if (auto bad = find_bad_name(k.value())) return sys::failure_msg(what, *bad, EINVAL);
  if (auto bad = check_abi(k.value(), running)) return sys::failure_msg(what, *bad, EINVAL);
  return k;
}

}  // namespace bpfprobe::btf
