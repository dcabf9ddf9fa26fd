// A map of the object created once as declared (type, key and value size, flags, map_extra) and
// closed again: the kernel's own checks of a definition (an LPM trie without BPF_F_NO_PREALLOC, key
// or value sizes a type does not take, flags a type refuses) answer here as they will when libbpf
// creates it. max_entries is clamped to 1 so that nothing large is allocated; the sizes that depend
// on it (0, ring buffers) are judged in map_check.hpp. Maps whose creation needs more than the
// definition (BTF ids, an inner map, an arena, struct_ops) are not created.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/sys/bpf.hpp>
#include <cstdio>
#include <optional>
#include <string>

namespace bpfprobe::objcheck {

inline bool created_as_declared(bpf_map_type type) {
  switch (type) {
    case BPF_MAP_TYPE_SK_STORAGE:  // local storage: the kernel wants the key and value BTF
    case BPF_MAP_TYPE_INODE_STORAGE:
    case BPF_MAP_TYPE_TASK_STORAGE:
    case BPF_MAP_TYPE_CGRP_STORAGE:
    case BPF_MAP_TYPE_STRUCT_OPS:     // the kernel's value type id
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:  // an inner map fd
    case BPF_MAP_TYPE_HASH_OF_MAPS:
    case BPF_MAP_TYPE_ARENA:    // address space set-up; creation is probed as map_type/arena
    case BPF_MAP_TYPE_RINGBUF:  // max_entries is the size: map_check.hpp judges it
    case BPF_MAP_TYPE_USER_RINGBUF:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:  // libbpf sets max_entries to the number of CPUs
      return false;
    default: return true;
  }
}

// nullopt when the map is not created here (see above, internal maps, max_entries 0, pinned maps
// that may be reused); else the kernel's answer: unsupported with the errno when it refused the
// definition, unknown when it refused the caller.
inline std::optional<verdict> create_as_declared(const bpf_map* m) {
  auto type = bpf_map__type(m);
  if (bpf_map__is_internal(m) || !created_as_declared(type) || bpf_map__max_entries(m) == 0 || bpf_map__pin_path(m))
    return std::nullopt;
  sys::map_create_args a;
  a.type = static_cast<std::uint32_t>(type);
  a.key_size = bpf_map__key_size(m);
  a.value_size = bpf_map__value_size(m);
  a.max_entries = 1;
  a.map_flags = bpf_map__map_flags(m);
  a.map_extra = bpf_map__map_extra(m);
  auto fd = sys::map_create(a);
  if (fd) return verdict::yes("created as declared (max_entries 1) and closed");
  verdict v = classify::from_error(fd.error());
  if (v.state == status::unsupported) {
    char flags[16];
    std::snprintf(flags, sizeof flags, "0x%x", a.map_flags);
    v.reason = "the kernel refuses the map as declared (key size " + std::to_string(a.key_size) + ", value size " +
               std::to_string(a.value_size) + ", flags " + flags + "): " + v.reason;
  }
  return v;
}

// For a recorded kernel (check --target), where nothing can be created: the definition rules the
// kernel has applied since the type came (each type's map_alloc_check). nullopt when none is broken;
// a definition they pass may still be refused there for a reason they do not model.
inline std::optional<verdict> definition_rules(const bpf_map* m) {
  auto type = bpf_map__type(m);
  if (bpf_map__is_internal(m) || !created_as_declared(type)) return std::nullopt;
  std::uint32_t key = bpf_map__key_size(m), value = bpf_map__value_size(m), flags = bpf_map__map_flags(m);
  auto broken = [&](const std::string& rule) {
    return verdict::no("the kernel refuses the map as declared (key size " + std::to_string(key) + ", value size " +
                           std::to_string(value) + "): " + rule,
                       EINVAL, "map definition rule: " + rule);
  };
  switch (type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
      if (key != 4) return broken("an array's key is 4 bytes");
      break;
    case BPF_MAP_TYPE_LPM_TRIE:
      // trie_alloc (4.11): BPF_F_NO_PREALLOC required; key = 4-byte prefix length + 1..256 bytes of data.
      if (!(flags & BPF_F_NO_PREALLOC)) return broken("an LPM trie needs BPF_F_NO_PREALLOC");
      if (key < 5 || key > 4 + 256) return broken("an LPM trie's key is a 4-byte prefix length and 1 to 256 bytes");
      if (value == 0) return broken("a value of 0 bytes");
      break;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
    case BPF_MAP_TYPE_BLOOM_FILTER:
      if (key != 0) return broken("this map type has no key (key size 0)");
      break;
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      if (key == 0 || value == 0) return broken("a hash map's key and value are at least 1 byte");
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace bpfprobe::objcheck
