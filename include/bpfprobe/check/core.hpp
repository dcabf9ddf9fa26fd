// CO-RE relocations: the records of .BTF.ext (parsed here with bounds checks, since libbpf 1.4
// does not export them) resolved against the kernel's BTF the way libbpf matches candidates:
// same kind and essential name (the local name up to "___"), named members found through
// anonymous ones, field types compatible. An unresolved relocation makes libbpf poison the
// instruction, which fails verification only when reachable: one the program also tests with a
// bpf_core_*_exists relocation on the same type is taken as guarded.
#pragma once

#include <bpf/btf.h>
#include <linux/bpf.h>  // enum bpf_core_relo_kind

#include <bpfprobe/check/kernel_types.hpp>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bpfprobe::objcheck {

inline bool is_existence(std::uint32_t kind) {
  return kind == BPF_CORE_FIELD_EXISTS || kind == BPF_CORE_TYPE_EXISTS || kind == BPF_CORE_ENUMVAL_EXISTS ||
         kind == BPF_CORE_TYPE_MATCHES;
}
inline bool is_field(std::uint32_t kind) { return kind <= BPF_CORE_FIELD_RSHIFT_U64; }
inline bool is_enumval(std::uint32_t kind) { return kind == BPF_CORE_ENUMVAL_EXISTS || kind == BPF_CORE_ENUMVAL_VALUE; }

struct core_relo {
  std::string section;
  std::uint32_t insn_off = 0;  // bytes into the section
  std::uint32_t type_id = 0;
  std::uint32_t kind = 0;
  std::string access;
};

// The CO-RE records of a .BTF.ext section; an error line when the section is malformed.
inline std::variant<std::vector<core_relo>, std::string> parse_core_relos(const std::vector<char>& ext,
                                                                          const struct btf* local) {
  std::vector<core_relo> out;
  if (ext.empty()) return out;
  auto u32 = [&](std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, ext.data() + off, 4);
    return v;
  };
  if (ext.size() < 24) return std::string(".BTF.ext is truncated");
  std::uint16_t magic;
  std::memcpy(&magic, ext.data(), 2);
  if (magic != 0xeB9F) return std::string(".BTF.ext has a bad magic number");
  std::uint32_t hdr_len = u32(4);
  if (hdr_len < 24 || hdr_len > ext.size()) return std::string(".BTF.ext header length is out of range");
  std::size_t data = hdr_len, size = ext.size() - hdr_len;
  // func_info and line_info are checked for shape only: libbpf reads them too.
  for (std::size_t h = 8; h + 8 <= std::min<std::size_t>(hdr_len, 32); h += 8) {
    std::uint64_t off = u32(h), len = u32(h + 4);
    if (off > size || len > size - off) return std::string(".BTF.ext subsection is out of range");
    if (len == 0) continue;
    if (len < 4) return std::string(".BTF.ext subsection is truncated");
    std::uint64_t rec = u32(data + off), pos = 4;
    if (rec < (h == 24 ? 16u : 8u) || rec > 1024) return std::string(".BTF.ext record size is invalid");
    while (pos < len) {
      if (len - pos < 8) return std::string(".BTF.ext section record is truncated");
      std::uint32_t sec_off = u32(data + off + pos), n = u32(data + off + pos + 4);
      pos += 8;
      if (n == 0 || n > (len - pos) / rec) return std::string(".BTF.ext record count is out of range");
      const char* sec = local ? btf__name_by_offset(local, sec_off) : nullptr;
      if (!sec) return std::string(".BTF.ext names a section outside the string table");
      if (h == 24) {
        for (std::uint32_t i = 0; i < n; ++i) {
          std::size_t r = data + off + pos + i * rec;
          core_relo c{sec, u32(r), u32(r + 4), u32(r + 12), {}};
          const char* acc = btf__name_by_offset(local, u32(r + 8));
          if (!acc || c.kind > BPF_CORE_TYPE_MATCHES || c.type_id == 0 || c.type_id >= btf__type_cnt(local))
            return std::string(".BTF.ext has an invalid CO-RE record");
          c.access = acc;
          out.push_back(std::move(c));
        }
      }
      pos += n * rec;
    }
  }
  return out;
}

inline std::string_view essential(std::string_view name) {
  auto p = name.find("___");
  return p == std::string_view::npos ? name : name.substr(0, p);
}

struct core_outcome {
  bool resolved = false;
  bool decided = true;  // false: this resolver cannot judge the record (reason says why)
  std::string what;     // "task_struct.__state", "enum bpf_func_id::BPF_FUNC_x", "struct foo"
  std::string root;     // essential name of the root type
  std::string reason;
};

class core_resolver {
 public:
  core_resolver(const struct btf* local, kernel_types& kernel) : local_(local), k_(kernel) {}

  core_outcome resolve(const core_relo& r) {
    core_outcome o;
    const btf_type* t = btf__type_by_id(local_, r.type_id);
    if (!t) return undecided(o, "type id out of range");
    const char* n = btf__name_by_offset(local_, t->name_off);
    o.root = std::string(essential(n ? n : ""));
    if (r.kind == BPF_CORE_TYPE_ID_LOCAL) {
      o.resolved = true;
      o.what = o.root;
      return o;
    }
    if (o.root.empty()) return undecided(o, "anonymous root type");
    if (!k_.available()) return undecided(o, "no kernel BTF to resolve CO-RE relocations against");
    auto cands = candidates(t, o.root);
    if (is_field(r.kind)) return field(r, t, cands, o);
    if (is_enumval(r.kind)) return enumval(r, t, cands, o);
    o.what = kind_word(t) + o.root;
    o.resolved = !cands.empty();
    if (!o.resolved) o.reason = "the kernel has no " + o.what;
    return o;
  }

 private:
  static core_outcome& undecided(core_outcome& o, std::string why) {
    o.decided = false;
    o.reason = std::move(why);
    return o;
  }
  static std::string kind_word(const btf_type* t) {
    switch (btf_kind(t)) {
      case BTF_KIND_STRUCT: return "struct ";
      case BTF_KIND_UNION: return "union ";
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: return "enum ";
      case BTF_KIND_TYPEDEF: return "typedef ";
      default: return "";
    }
  }

  std::vector<type_ref> candidates(const btf_type* t, const std::string& name) {
    int kind = btf_kind(t);
    auto out = k_.find(name, kind);
    if (kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64) {
      auto more = k_.find(name, kind == BTF_KIND_ENUM ? BTF_KIND_ENUM64 : BTF_KIND_ENUM);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

  static const btf_type* skip(const struct btf* b, std::uint32_t id, std::uint32_t* out_id = nullptr) {
    const btf_type* t = btf__type_by_id(b, id);
    while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
      id = t->type;
      t = btf__type_by_id(b, id);
    }
    if (out_id) *out_id = id;
    return t;
  }

  static std::string_view name_of(const struct btf* b, std::uint32_t off) {
    const char* n = btf__name_by_offset(b, off);
    return n ? n : "";
  }

  // libbpf's bpf_core_fields_are_compat, without its depth limit subtleties.
  bool compatible(const struct btf* lb, std::uint32_t lid, const struct btf* tb, std::uint32_t tid, int depth = 0) {
    const btf_type* l = skip(lb, lid);
    const btf_type* t = skip(tb, tid);
    if (!l || !t || depth > 32) return false;
    if (btf_is_composite(l) && btf_is_composite(t)) return true;
    bool enums = btf_is_any_enum(l) && btf_is_any_enum(t);
    if (btf_kind(l) != btf_kind(t) && !enums) return false;
    switch (btf_kind(l)) {
      case BTF_KIND_PTR:
      case BTF_KIND_FLOAT: return true;
      case BTF_KIND_FWD:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        auto ln = essential(name_of(lb, l->name_off)), tn = essential(name_of(tb, t->name_off));
        return ln.empty() || tn.empty() || ln == tn;
      }
      case BTF_KIND_INT: return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
      case BTF_KIND_ARRAY: return compatible(lb, btf_array(l)->type, tb, btf_array(t)->type, depth + 1);
      default: return false;
    }
  }

  // Finds member `name` in composite `t` (searching anonymous members); its type id.
  std::optional<std::uint32_t> member(const struct btf* tb, const btf_type* t, std::string_view name, int depth = 0) {
    if (!t || !btf_is_composite(t) || depth > 32) return std::nullopt;
    const btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
      auto mn = name_of(tb, m->name_off);
      if (mn.empty()) {
        if (auto found = member(tb, skip(tb, m->type), name, depth + 1)) return found;
      } else if (mn == name) {
        return m->type;
      }
    }
    return std::nullopt;
  }

  core_outcome& field(const core_relo& r, const btf_type* root, const std::vector<type_ref>& cands, core_outcome& o) {
    // The local access path: array indexes and named members (anonymous ones are only descended).
    struct step {
      bool array;
      std::string name;
      std::uint32_t local_type;
    };
    std::vector<step> steps;
    std::vector<unsigned> idx;
    for (std::size_t p = 0; p < r.access.size();) {
      std::size_t e = r.access.find(':', p);
      if (e == std::string::npos) e = r.access.size();
      try {
        idx.push_back(static_cast<unsigned>(std::stoul(r.access.substr(p, e - p))));
      } catch (...) {
        return undecided(o, "malformed access string");
      }
      p = e + 1;
    }
    if (idx.empty()) return undecided(o, "empty access string");
    std::uint32_t id = r.type_id;
    const btf_type* t = skip(local_, id, &id);
    o.what = o.root;
    // idx[0] indexes the root pointer (p[1].x): no step in the type.
    for (std::size_t i = 1; i < idx.size(); ++i) {
      if (!t) return undecided(o, "access path leaves the type");
      if (btf_is_composite(t)) {
        if (idx[i] >= btf_vlen(t)) return undecided(o, "member index out of range");
        const btf_member* m = btf_members(t) + idx[i];
        auto mn = name_of(local_, m->name_off);
        if (!mn.empty()) {
          steps.push_back({false, std::string(mn), m->type});
          o.what += "." + std::string(mn);
        }
        t = skip(local_, m->type, &id);
      } else if (btf_is_array(t)) {
        steps.push_back({true, "", btf_array(t)->type});
        o.what += "[" + std::to_string(idx[i]) + "]";
        t = skip(local_, btf_array(t)->type, &id);
      } else {
        return undecided(o, "access path through a scalar");
      }
    }
    (void)root;
    for (const auto& c : cands) {
      const btf_type* ct = skip(c.btf, c.id);
      bool ok = true;
      for (const auto& s : steps) {
        if (!ct) {
          ok = false;
          break;
        }
        if (s.array) {
          if (!btf_is_array(ct)) {
            ok = false;
            break;
          }
          ct = skip(c.btf, btf_array(ct)->type);
          continue;
        }
        auto m = member(c.btf, ct, s.name);
        if (!m || !compatible(local_, s.local_type, c.btf, *m)) {
          ok = false;
          break;
        }
        ct = skip(c.btf, *m);
      }
      if (ok) {
        o.resolved = true;
        return o;
      }
    }
    o.reason =
        cands.empty() ? "the kernel has no type " + o.root : "the kernel's " + o.root + " has no field " + o.what;
    return o;
  }

  core_outcome& enumval(const core_relo& r, const btf_type* t, const std::vector<type_ref>& cands, core_outcome& o) {
    unsigned i = 0;
    try {
      i = static_cast<unsigned>(std::stoul(r.access));
    } catch (...) {
      return undecided(o, "malformed access string");
    }
    const btf_type* lt = skip(local_, r.type_id);
    if (!lt || !btf_is_any_enum(lt) || i >= btf_vlen(lt)) return undecided(o, "enumerator index out of range");
    std::uint32_t name_off = btf_is_enum(lt) ? btf_enum(lt)[i].name_off : btf_enum64(lt)[i].name_off;
    auto want = essential(name_of(local_, name_off));
    o.what = "enum " + o.root + "::" + std::string(want);
    (void)t;
    for (const auto& c : cands) {
      const btf_type* ct = c.type();
      for (unsigned j = 0; j < btf_vlen(ct); ++j) {
        std::uint32_t off = btf_is_enum(ct) ? btf_enum(ct)[j].name_off : btf_enum64(ct)[j].name_off;
        if (essential(name_of(c.btf, off)) == want) {
          o.resolved = true;
          return o;
        }
      }
    }
    o.reason = "the kernel has no " + o.what;
    return o;
  }

  const struct btf* local_;
  kernel_types& k_;
};

}  // namespace bpfprobe::objcheck
