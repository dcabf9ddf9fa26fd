// Map-type probes: create a one-entry map of each type with the sizes and extras it needs.
#pragma once

#include <unistd.h>

#include <bpfprobe/probe/facts.hpp>
#include <bpfprobe/probe/load_setup.hpp>
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

inline map_setup map_setup_for(const context& ctx, std::string_view name, std::uint32_t value) {
  map_setup s;
  auto& a = s.args;
  a.type = value;
  auto page = static_cast<std::uint32_t>(sysconf(_SC_PAGESIZE));
  if (name == "stack_trace") {
    a.value_size = 8;
  } else if (name == "lpm_trie") {
    a.key_size = 8;
    a.map_flags = BPF_F_NO_PREALLOC;
  } else if (name == "rhash") {  // resizable hash (7.2): grows on demand, so no preallocation
    a.map_flags = BPF_F_NO_PREALLOC;
  } else if (name == "insn_array") {  // 6.19: values are struct bpf_insn_array_value
    const auto* k = ctx.kernel_btf();
    auto id = k ? k->find_struct("bpf_insn_array_value") : std::nullopt;
    a.value_size = id ? k->type_size(*id).value_or(16) : 16;
  } else if (name == "array_of_maps" || name == "hash_of_maps") {
    auto inner = sys::map_create({.type = BPF_MAP_TYPE_ARRAY});
    if (inner) {
      a.inner_map_fd = inner.value().get();
      s.keep.push_back(std::move(inner).value());
    } else {
      s.gap = "inner array map: " + inner.error().describe();
    }
  } else if (name == "cgroup_storage" || name == "percpu_cgroup_storage") {
    a.key_size = sizeof(bpf_cgroup_storage_key);
    a.value_size = 8;
    a.max_entries = 0;
  } else if (name == "queue" || name == "stack" || name == "bloom_filter") {
    a.key_size = 0;
  } else if (name == "ringbuf" || name == "user_ringbuf") {
    a.key_size = a.value_size = 0;
    a.max_entries = page;
  } else if (name == "arena") {
    a.key_size = a.value_size = 0;
    a.map_flags = BPF_F_MMAPABLE;
  } else if (name == "sk_storage" || name == "inode_storage" || name == "task_storage" || name == "cgrp_storage") {
    a.map_flags = BPF_F_NO_PREALLOC;
    a.max_entries = 0;
    auto btf_fd = int_btf();
    if (btf_fd) {
      a.btf_fd = btf_fd.value().get();
      a.btf_key_type_id = a.btf_value_type_id = 1;
      s.keep.push_back(std::move(btf_fd).value());
    } else {
      s.gap = "int BTF: " + btf_fd.error().describe();
    }
  } else if (name == "struct_ops") {
    const auto* k = ctx.kernel_btf();
    auto id = k ? k->find_struct("bpf_struct_ops_tcp_congestion_ops") : std::nullopt;
    if (!id && k) id = k->find_struct("bpf_struct_ops_bpf_dummy_ops");
    // The kernel also wants a BTF object of the loader's own (any valid one) in btf_fd.
    auto btf_fd = int_btf();
    if (id && btf_fd) {
      a.btf_vmlinux_value_type_id = *id;
      a.value_size = k->type_size(*id).value_or(0);
      a.btf_fd = btf_fd.value().get();
      s.keep.push_back(std::move(btf_fd).value());
      s.note = std::string("value type ") + std::string(k->name_of(*id));
    } else if (!btf_fd) {
      s.gap = "int BTF: " + btf_fd.error().describe();
    } else {
      s.gap = k ? "no struct_ops value type in kernel BTF" : "no kernel BTF";
    }
  }  // every other type takes the 4/4/1 default
  return s;
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
