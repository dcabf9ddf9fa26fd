// The values libbpf writes for an object's externs before loading (bpf_object__resolve_externs,
// libbpf 1.4), where the verifier then sees a constant: the 0 of a weak ksym or kfunc the kernel
// lacks (an ld_imm64 of it, as bpf_ksym_exists() compiles), and each .kconfig value, which sits
// in the frozen .kconfig map. The reachability scan follows them like .rodata.
#pragma once

#include <bpfprobe/check/object_context.hpp>
#include <bpfprobe/check/reachable.hpp>
#include <charconv>
#include <cstring>

namespace bpfprobe::objcheck {

namespace detail {

// libbpf's kconfig value kinds (find_kcfg_type); char arrays are left out: the config reader
// drops the quotes that tell a string from a number.
enum class kcfg_kind { none, boolean, tristate, character, integer };

inline kcfg_kind kcfg_kind_of(const struct btf* b, std::uint32_t type_id, bool& is_signed, std::size_t& size) {
  const btf_type* t = btf__type_by_id(b, type_id);
  while (t && (btf_is_mod(t) || btf_is_typedef(t))) t = btf__type_by_id(b, t->type);
  if (!t) return kcfg_kind::none;
  size = t->size;
  if (btf_is_int(t)) {
    auto enc = btf_int_encoding(t);
    is_signed = enc & BTF_INT_SIGNED;
    if (enc & BTF_INT_BOOL) return t->size == 1 ? kcfg_kind::boolean : kcfg_kind::none;
    if (t->size == 1) return kcfg_kind::character;
    return t->size == 2 || t->size == 4 || t->size == 8 ? kcfg_kind::integer : kcfg_kind::none;
  }
  if (btf_is_enum(t) && t->size == 4 && std::string_view(btf__name_by_offset(b, t->name_off)) == "libbpf_tristate")
    return kcfg_kind::tristate;
  return kcfg_kind::none;
}

// The bytes libbpf writes for one kconfig value (bpf_object__process_kconfig_line); nullopt where
// libbpf would refuse it or this does not model it.
inline std::optional<std::vector<char>> kcfg_bytes(kcfg_kind kind, bool is_signed, std::size_t size,
                                                   const std::string& value) {
  std::uint64_t v = 0;
  if (value == "y" || value == "n" || value == "m") {
    char c = value[0];
    switch (kind) {
      case kcfg_kind::boolean:
        if (c == 'm') return std::nullopt;
        v = c == 'y';
        break;
      case kcfg_kind::tristate: v = c == 'y' ? 1 : c == 'm' ? 2 : 0; break;  // TRI_YES, TRI_MODULE, TRI_NO
      case kcfg_kind::character: v = static_cast<unsigned char>(c); break;
      default: return std::nullopt;
    }
  } else {
    if (kind != kcfg_kind::integer && kind != kcfg_kind::character) return std::nullopt;
    std::string_view s = value;
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
      base = 16;
      s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0') {
      base = 8;
      s.remove_prefix(1);
    }
    bool negative = !s.empty() && s[0] == '-';  // strtoull takes "-1" as 2^64 - 1
    if (negative) s.remove_prefix(1);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    if (negative) v = 0 - v;
    unsigned bits = static_cast<unsigned>(size * 8);  // is_kcfg_value_in_range
    if (size < 8 && (is_signed ? v + (1ull << (bits - 1)) >= (1ull << bits) : (v >> bits) != 0)) return std::nullopt;
  }
  std::vector<char> out(size);
  if (size > 8) return std::nullopt;
  std::uint64_t le = v;  // the object's byte order is the kernel's, so the host's
  std::memcpy(out.data(), reinterpret_cast<char*>(&le) + (std::endian::native == std::endian::big ? 8 - size : 0),
              size);
  return out;
}

}  // namespace detail

inline extern_values collect_extern_values(object_context& oc) {
  extern_values ev;
  for (const auto& x : oc.weak) {
    bool missing = (oc.ksym_funcs.contains(x) && oc.kernel.available() && !oc.kernel.has(x, BTF_KIND_FUNC)) ||
                   (oc.ksym_typed.contains(x) && oc.kernel.available() && !oc.kernel.has(x, BTF_KIND_VAR)) ||
                   (oc.ksym_untyped.contains(x) && oc.kallsyms_has(x).state == status::unsupported);
    if (missing) ev.numbers.emplace(x, 0);
  }
  const struct btf* b = oc.btf;
  if (!b || oc.kconfig.empty()) return ev;
  const auto& cfg = oc.kconfig_values();
  if (cfg.source.empty()) return ev;  // libbpf finds no config either: strong externs fail, weak are 0
  for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_datasec(t) || std::string_view(btf__name_by_offset(b, t->name_off)) != ".kconfig") continue;
    const btf_var_secinfo* v = btf_var_secinfos(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++v) {
      const btf_type* vt = btf__type_by_id(b, v->type);
      if (!vt || !btf_is_var(vt)) continue;
      std::string name = btf__name_by_offset(b, vt->name_off);
      if (name.starts_with("LINUX_")) continue;  // libbpf's own values (kernel version, ...): not followed
      bool is_signed = false;
      std::size_t size = 0;
      auto kind = detail::kcfg_kind_of(b, vt->type, is_signed, size);
      if (kind == detail::kcfg_kind::none || size == 0 || size > 8) continue;
      auto it = cfg.values.find(name);
      if (it == cfg.values.end()) {
        if (oc.weak.contains(name)) ev.data.emplace(name, std::vector<char>(size));  // unset and weak: 0
        continue;
      }
      if (auto bytes = detail::kcfg_bytes(kind, is_signed, size, it->second)) ev.data.emplace(name, std::move(*bytes));
    }
  }
  return ev;
}

}  // namespace bpfprobe::objcheck
