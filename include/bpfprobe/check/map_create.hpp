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

}  // namespace bpfprobe::objcheck
