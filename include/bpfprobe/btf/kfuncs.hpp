// Kfunc candidates from the kernel's BTF: vmlinux and every module under /sys/kernel/btf/.
//
// With pahole >= 1.27 (kernels built since 6.11) every registered kfunc carries
// `decl_tag("bpf_kfunc")` and the tags are the list. Older BTF (Debian 5.10, 6.1, 6.12) has no tags:
// there a FUNC is only a candidate, and a load probe (catalog/kfuncs.hpp) decides. Candidates are the
// FUNCs in the BPF-facing name spaces (see is_candidate) — not all ~60k kernel functions.
#pragma once

#include <linux/bpf.h>

#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/sys/bpf.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bpfprobe::btf {

// Prefixes of the kfunc name spaces: the generic and subsystem kfuncs (bpf_*, with `__bpf_trap`),
// sched_ext (scx_bpf_*, and the 6.19 `__scx_bpf_*` compat variants) and HID-BPF (hid_bpf_*).
inline constexpr std::string_view kfunc_prefixes[] = {"bpf_", "__bpf_", "scx_bpf_", "__scx_bpf_", "hid_bpf_"};

// Kfuncs outside those name spaces: kernel functions exported as kfuncs under their own names.
// TCP congestion-control building blocks for struct_ops (5.13, e78aea8b2170, and the per-module
// sets of cubic/bbr/dctcp), cgroup rstat (6.1, "cgroup_rstat_*", renamed "css_rstat_*" in 6.16),
// crash_kexec (6.1, KF_DESTRUCTIVE).
inline constexpr std::string_view kfunc_prefixes_other[] = {"tcp_reno_", "cubictcp_",     "bbr_",
                                                            "dctcp_",    "cgroup_rstat_", "css_rstat_"};
inline constexpr std::string_view kfunc_names_other[] = {"tcp_slow_start", "tcp_cong_avoid_ai", "crash_kexec"};

// Whether a FUNC named `name` is probed as a kfunc candidate when the BTF has no bpf_kfunc tags.
// `bpf_lsm_*` are the LSM hooks' attach points, not kfuncs.
inline bool is_candidate(std::string_view name) {
  if (name.starts_with("bpf_lsm_")) return false;
  for (auto p : kfunc_prefixes)
    if (name.starts_with(p)) return true;
  for (auto p : kfunc_prefixes_other)
    if (name.starts_with(p)) return true;
  for (auto n : kfunc_names_other)
    if (name == n) return true;
  return false;
}

// C spelling of a BTF type: "const struct bpf_dynptr *", "u32", "void (*)(int)". Each type visited
// costs one of `budget`: a cycle, or a deep or wide graph in a hostile BTF, ends with "?" and a
// negative budget instead of a hang.
inline std::string type_name(const struct btf* b, std::uint32_t id, int& budget) {
  if (id == 0) return "void";
  const btf_type* t = btf__type_by_id(b, id);
  if (!t || --budget < 0) return "?";
  const char* raw = btf__name_by_offset(b, t->name_off);
  // Only names a C declaration could carry reach the prototype text; anything else reads "?".
  std::string name = !raw || !*raw                                                  ? "(anon)"
                     : btf_kind(t) == BTF_KIND_INT || btf_kind(t) == BTF_KIND_FLOAT ? (is_type_words(raw) ? raw : "?")
                                                                                    : (is_identifier(raw) ? raw : "?");
  switch (btf_kind(t)) {
    case BTF_KIND_INT:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPEDEF: return name;
    case BTF_KIND_STRUCT: return "struct " + name;
    case BTF_KIND_UNION: return "union " + name;
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: return "enum " + name;
    case BTF_KIND_FWD: return (btf_kflag(t) ? "union " : "struct ") + name;
    case BTF_KIND_TYPE_TAG: return type_name(b, t->type, budget);
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT: {
      const char* q = btf_kind(t) == BTF_KIND_CONST      ? "const"
                      : btf_kind(t) == BTF_KIND_VOLATILE ? "volatile"
                                                         : "restrict";
      std::string inner = type_name(b, t->type, budget);
      return inner.ends_with('*') ? inner + q : std::string(q) + " " + inner;
    }
    case BTF_KIND_PTR: {
      const btf_type* target = btf__type_by_id(b, t->type);
      if (target && btf_is_func_proto(target)) {
        std::string proto = type_name(b, t->type, budget);  // "ret (*)(args)" already
        return proto;
      }
      std::string inner = type_name(b, t->type, budget);
      return inner.ends_with('*') ? inner + "*" : inner + " *";
    }
    case BTF_KIND_ARRAY: {
      const struct btf_array* a = btf_array(t);
      return type_name(b, a->type, budget) + "[" + std::to_string(a->nelems) + "]";
    }
    case BTF_KIND_FUNC_PROTO: {
      std::string out = type_name(b, t->type, budget) + " (*)(";
      const btf_param* p = btf_params(t);
      for (unsigned i = 0; i < btf_vlen(t) && budget >= 0; ++i) {
        if (i) out += ", ";
        out += p[i].type ? type_name(b, p[i].type, budget) : "...";
      }
      return out + ")";
    }
    default: return name;
  }
}

// "void *bpf_rdonly_cast(const void *obj__ign, u32 btf_id__k)" for a FUNC id; empty when it is no
// FUNC or its types are too many to print (256 visits: real kfuncs need a few dozen at most).
// libbpf's btf_dump__emit_type_decl is not used: it prints type tags as
// `__attribute__((btf_type_tag("address_space(1)")))` (the arena kfuncs) and, before libbpf 1.5,
// a function without parameters as "f()".
inline std::string prototype(const struct btf* b, std::uint32_t func_id) {
  const btf_type* f = btf__type_by_id(b, func_id);
  if (!f || !btf_is_func(f)) return {};
  const btf_type* proto = btf__type_by_id(b, f->type);
  if (!proto || !btf_is_func_proto(proto)) return {};
  auto join = [](std::string type, const char* name) {
    if (!name || !is_identifier(name)) return type;
    return type + (type.ends_with('*') ? "" : " ") + name;
  };
  int budget = 256;
  std::string out = join(type_name(b, proto->type, budget), btf__name_by_offset(b, f->name_off)) + "(";
  const btf_param* p = btf_params(proto);
  unsigned n = btf_vlen(proto);
  for (unsigned i = 0; i < n && budget >= 0; ++i) {
    if (i) out += ", ";
    if (p[i].type == 0) {
      out += "...";
      continue;
    }
    std::string type = type_name(b, p[i].type, budget);
    const char* pname = btf__name_by_offset(b, p[i].name_off);
    if (auto star = type.find("(*)"); star != std::string::npos && pname && is_identifier(pname))
      out += type.insert(star + 2, pname);  // int (*cb)(void *)
    else
      out += join(std::move(type), pname);
  }
  if (n == 0) out += "void";
  return budget < 0 ? std::string() : out + ")";
}

// One kfunc (or, without tags, one candidate) as BTF describes it.
struct kfunc_info {
  std::string name;
  std::string module;                // "vmlinux" or the module's name
  std::uint32_t btf_id;              // id in the running kernel's BTF object of `module`
  std::string prototype;             // rendered from BTF
  bool tagged = false;               // carries decl_tag("bpf_kfunc")
  std::vector<std::string> aliases;  // the other spelling (foo <-> foo_impl) when the kernel has both
};

struct kfunc_catalog {
  std::vector<kfunc_info> funcs;   // sorted by name; vmlinux before modules for equal names
  bool from_tags = false;          // vmlinux BTF carries bpf_kfunc tags: the tags are the list
  std::string source;              // where names came from, and how
  std::vector<std::string> notes;  // modules whose BTF could not be read, ...

  [[nodiscard]] const kfunc_info* find(std::string_view name) const {
    for (const auto& f : funcs)
      if (f.name == name) return &f;
    return nullptr;
  }
};

namespace detail {

// FUNC name -> id of one BTF object's own types.
inline std::unordered_map<std::string_view, std::uint32_t> func_index(const kernel_btf& k) {
  std::unordered_map<std::string_view, std::uint32_t> out;
  const struct btf* b = k.get();
  const struct btf* base = btf__base_btf(b);
  for (std::uint32_t id = base ? btf__type_cnt(base) : 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (btf_is_func(t)) out.emplace(btf__name_by_offset(b, t->name_off), id);
  }
  return out;
}

// FUNCs of one BTF object (split BTF: only the module's own types) that are kfunc candidates.
// Without tags, FUNCs named like a helper (bpf_<BPF_FUNC_x>) are helpers' bodies, not kfuncs: BPF
// programs see helpers and kfuncs in one name space. `kernel_ids`, when given, maps names to the
// running kernel's ids (names from a file).
inline void collect(const kernel_btf& k, std::string_view module, bool use_tags,
                    const std::set<std::string, std::less<>>& helper_names,
                    const std::unordered_map<std::string_view, std::uint32_t>* kernel_ids, kfunc_catalog& out) {
  const struct btf* b = k.get();
  std::vector<std::uint32_t> ids;
  if (use_tags) {
    ids = k.tagged_funcs("bpf_kfunc");
  } else {
    const struct btf* base = btf__base_btf(b);
    for (std::uint32_t id = base ? btf__type_cnt(base) : 1; id < btf__type_cnt(b); ++id) {
      const btf_type* t = btf__type_by_id(b, id);
      if (!btf_is_func(t)) continue;
      std::string_view name = btf__name_by_offset(b, t->name_off);
      if (is_candidate(name) && !helper_names.contains(name)) ids.push_back(id);
    }
  }
  for (auto id : ids) {
    if (!is_identifier(k.name_of(id))) continue;  // never from a sane BTF; it must not reach output
    kfunc_info f;
    f.name = std::string(k.name_of(id));
    f.module = std::string(module);
    f.btf_id = id;
    if (kernel_ids) {
      auto it = kernel_ids->find(f.name);
      if (it == kernel_ids->end()) continue;
      f.btf_id = it->second;
    }
    f.prototype = prototype(b, id);
    f.tagged = use_tags;
    out.funcs.push_back(std::move(f));
  }
}

}  // namespace detail

// Modules with BTF: every entry of /sys/kernel/btf/ but vmlinux, sorted.
inline std::vector<std::string> module_names(const std::filesystem::path& dir = "/sys/kernel/btf") {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename() != "vmlinux") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Enumerates kfuncs. `names` is the BTF the vmlinux names and tags come from (the kernel's own, or a
// file); `kernel` is the running kernel's vmlinux BTF, base of the module BTFs and source of ids.
inline kfunc_catalog enumerate_kfuncs(const kernel_btf& names, const kernel_btf& kernel,
                                      const std::filesystem::path& module_dir = "/sys/kernel/btf") {
  kfunc_catalog c;
  c.from_tags = !names.tagged_funcs("bpf_kfunc").empty();
  c.source = names.path() + (c.from_tags ? " (bpf_kfunc decl tags)"
                                         : " (no bpf_kfunc decl tags: FUNCs named bpf_*, scx_bpf_*, hid_bpf_*, tcp "
                                           "congestion-control and rstat kfuncs, decided by load probes)");
  std::set<std::string, std::less<>> helpers;
  for (const auto& h : kernel.enumerators("bpf_func_id", "BPF_FUNC_")) helpers.insert("bpf_" + h.name);
  if (&names == &kernel) {
    detail::collect(names, "vmlinux", c.from_tags, helpers, nullptr, c);
  } else {
    auto ids = detail::func_index(kernel);
    detail::collect(names, "vmlinux", c.from_tags, helpers, &ids, c);
  }
  for (const auto& m : module_names(module_dir)) {
    auto mod = kernel.open_module(module_dir / m);
    if (!mod) {
      c.notes.push_back(m + ": " + mod.error().describe());
      continue;
    }
    detail::collect(mod.value(), m, c.from_tags, helpers, nullptr, c);
  }
  std::stable_sort(c.funcs.begin(), c.funcs.end(), [](const kfunc_info& a, const kfunc_info& b) {
    if (a.name != b.name) return a.name < b.name;
    return (a.module == "vmlinux") > (b.module == "vmlinux");
  });
  // A kfunc in two modules keeps its first entry (vmlinux wins): names are global to BPF programs.
  c.funcs.erase(std::unique(c.funcs.begin(), c.funcs.end(),
                            [](const kfunc_info& a, const kfunc_info& b) { return a.name == b.name; }),
                c.funcs.end());
  // foo_impl and foo (6.4-6.19 `_impl` renames; 7.0/7.1 KF_IMPLICIT_ARGS brought the plain names back).
  for (auto& f : c.funcs) {
    std::string other = f.name.ends_with("_impl") ? f.name.substr(0, f.name.size() - 5) : f.name + "_impl";
    if (c.find(other)) f.aliases.push_back(other);
  }
  return c;
}

// An fd for the kernel's BTF object of each named module (BPF_BTF_GET_NEXT_ID + GET_FD_BY_ID +
// OBJ_GET_INFO_BY_FD). Module kfunc calls name this fd through the program's fd_array.
inline sys::result<std::map<std::string, sys::unique_fd>> kernel_btf_objects(const std::vector<std::string>& wanted) {
  std::map<std::string, sys::unique_fd> out;
  if (wanted.empty()) return out;
  auto ids = sys::object_ids(sys::object_kind::btf);
  if (!ids) return ids.error();
  for (auto id : ids.value()) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.btf_id = id;
    auto fd = sys::bpf_fd_call(BPF_BTF_GET_FD_BY_ID, attr);
    if (!fd) {
      if (fd.error().code == ENOENT) continue;  // freed meanwhile
      return fd.error();
    }
    char name[64] = {};
    bpf_btf_info info;
    std::memset(&info, 0, sizeof(info));
    info.name = sys::ptr_to_u64(name);
    info.name_len = sizeof(name);
    if (auto r = sys::obj_info(fd.value().get(), info); !r) return r.error();
    if (!info.kernel_btf) continue;
    if (std::find(wanted.begin(), wanted.end(), std::string(name)) == wanted.end()) continue;
    out.emplace(name, std::move(fd).value());
    if (out.size() == wanted.size()) break;
  }
  return out;
}

}  // namespace bpfprobe::btf
