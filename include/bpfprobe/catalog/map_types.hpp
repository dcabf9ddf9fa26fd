// Map-type probes: create a one-entry map of each type with the sizes and extras it needs. A map type
// is one row in probes/facts/map_types.tsv, plus a map_setup_rows row when 4/4/1 does not do.
#pragma once

#include <unistd.h>

#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>

namespace bpfprobe::probe {

struct map_setup {
  sys::map_create_args args;
  std::vector<sys::unique_fd> keep;
  std::string note, gap;
};

// BTF with one `int` (id 1), for maps that need BTF key/value types (local storage).
inline sys::result<sys::unique_fd> int_btf() {
  btf_builder b(btf__new_empty());
  btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  return sys::btf_load(raw_bytes(b.get()), 0);
}

namespace map_setup_detail {

inline void keep_btf(map_setup& s) {
  auto btf_fd = int_btf();
  if (!btf_fd) {
    s.gap = "int BTF: " + btf_fd.error().describe();
    return;
  }
  s.args.btf_fd = btf_fd.value().get();
  s.keep.push_back(std::move(btf_fd).value());
}

inline void stack_trace(const context&, map_setup& s) { s.args.value_size = 8; }

inline void lpm_trie(const context&, map_setup& s) {
  s.args.key_size = 8;
  s.args.map_flags = BPF_F_NO_PREALLOC;
}

// Resizable hash (7.2): grows on demand, so no preallocation.
inline void no_prealloc(const context&, map_setup& s) { s.args.map_flags = BPF_F_NO_PREALLOC; }

// 6.19: values are struct bpf_insn_array_value.
inline void insn_array(const context& ctx, map_setup& s) {
  const auto* k = ctx.kernel_btf();
  auto id = k ? k->find_struct("bpf_insn_array_value") : std::nullopt;
  s.args.value_size = id ? k->type_size(*id).value_or(16) : 16;
}

inline void map_in_map(const context&, map_setup& s) {
  auto inner = sys::map_create({.type = BPF_MAP_TYPE_ARRAY});
  if (!inner) {
    s.gap = "inner array map: " + inner.error().describe();
    return;
  }
  s.args.inner_map_fd = inner.value().get();
  s.keep.push_back(std::move(inner).value());
}

inline void cgroup_storage(const context&, map_setup& s) {
  s.args.key_size = sizeof(bpf_cgroup_storage_key);
  s.args.value_size = 8;
  s.args.max_entries = 0;
}

inline void keyless(const context&, map_setup& s) { s.args.key_size = 0; }

inline void ring(const context&, map_setup& s) {
  s.args.key_size = s.args.value_size = 0;
  s.args.max_entries = static_cast<std::uint32_t>(sysconf(_SC_PAGESIZE));
}

inline void arena(const context&, map_setup& s) {
  s.args.key_size = s.args.value_size = 0;
  s.args.map_flags = BPF_F_MMAPABLE;
}

// sk/inode/task/cgrp local storage: BTF key and value types, no preallocation.
inline void local_storage(const context&, map_setup& s) {
  s.args.map_flags = BPF_F_NO_PREALLOC;
  s.args.max_entries = 0;
  keep_btf(s);
  if (s.gap.empty()) s.args.btf_key_type_id = s.args.btf_value_type_id = 1;
}

inline void struct_ops(const context& ctx, map_setup& s) {
  const auto* k = ctx.kernel_btf();
  auto id = k ? k->find_struct("bpf_struct_ops_tcp_congestion_ops") : std::nullopt;
  if (!id && k) id = k->find_struct("bpf_struct_ops_bpf_dummy_ops");
  // The kernel also wants a BTF object of the loader's own (any valid one) in btf_fd.
  auto btf_fd = int_btf();
  if (!btf_fd) {
    s.gap = "int BTF: " + btf_fd.error().describe();
    return;
  }
  if (!id) {
    s.gap = k ? "no struct_ops value type in kernel BTF" : "no kernel BTF";
    return;
  }
  s.args.btf_vmlinux_value_type_id = *id;
  s.args.value_size = k->type_size(*id).value_or(0);
  s.args.btf_fd = btf_fd.value().get();
  s.keep.push_back(std::move(btf_fd).value());
  s.note = std::string("value type ") + std::string(k->name_of(*id));
}

}  // namespace map_setup_detail

using map_setup_row = setup_row<map_setup>;

inline constexpr map_setup_row map_setup_rows[] = {
    {"stack_trace", map_setup_detail::stack_trace},
    {"lpm_trie", map_setup_detail::lpm_trie},
    {"rhash", map_setup_detail::no_prealloc},
    {"insn_array", map_setup_detail::insn_array},
    {"array_of_maps", map_setup_detail::map_in_map},
    {"hash_of_maps", map_setup_detail::map_in_map},
    {"cgroup_storage", map_setup_detail::cgroup_storage},
    {"percpu_cgroup_storage", map_setup_detail::cgroup_storage},
    {"queue", map_setup_detail::keyless},
    {"stack", map_setup_detail::keyless},
    {"bloom_filter", map_setup_detail::keyless},
    {"ringbuf", map_setup_detail::ring},
    {"user_ringbuf", map_setup_detail::ring},
    {"arena", map_setup_detail::arena},
    {"sk_storage", map_setup_detail::local_storage},
    {"inode_storage", map_setup_detail::local_storage},
    {"task_storage", map_setup_detail::local_storage},
    {"cgrp_storage", map_setup_detail::local_storage},
    {"struct_ops", map_setup_detail::struct_ops},
};

inline map_setup map_setup_for(const context& ctx, std::string_view name, std::uint32_t value) {
  map_setup s;
  s.args.type = value;
  apply_setup_rows<map_setup>(map_setup_rows, ctx, name, s);
  return s;  // every type without a row takes the 4/4/1 default
}

inline verdict probe_map_type(const context& ctx, std::string_view name, std::uint32_t value) {
  map_setup s = map_setup_for(ctx, name, value);
  auto fd = sys::map_create(s.args);
  classify::rules r = ctx.rules({.log_proves_existence = false});
  // struct_ops without a usable value type: the kernel answers ENOTSUPP only if it knows the map type.
  if (name == "struct_ops") r.known_errnos.push_back(sys::ENOTSUPP_KERNEL);
  verdict v = classify::from_result(fd, r, "created");
  if (!s.note.empty()) v.evidence = v.evidence.empty() ? s.note : v.evidence + " [" + s.note + "]";
  if (!s.gap.empty() && !v.supported()) {
    v.reason += " (set-up incomplete: " + s.gap + ")";
    // The kernel rejected a request we could not complete: that says nothing about the map type.
    v.state = status::unknown;
  }
  if (!find_doc(map_type_docs, name) && !v.supported())
    v.reason += " (no per-type set-up known for this newer type; tried defaults)";
  return v;
}

}  // namespace bpfprobe::probe
