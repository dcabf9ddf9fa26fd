// Whether a struct_ops map of the object refers to a struct_ops program. libbpf sets the program's
// attach_btf_id from the map that refers to it; one no map refers to has none: libbpf 1.4.2 and
// later refuse to load it with EINVAL ("SEC(\"struct_ops\") program isn't referenced anywhere"),
// older ones pass attach_btf_id 0 on and the kernel refuses it ("attach_btf_id 0 is not a
// supported struct", check_struct_ops_btf_id). Either way it does not load.
#pragma once

#include <bpf/libbpf.h>

#include <cstring>
#include <optional>

namespace bpfprobe::objcheck {

// libbpf 1.4 keeps a struct_ops map's value as the application sees it (bpf_map__initial_value):
// its function pointer members hold the bpf_program pointers of the programs the map refers to,
// 8-byte aligned as in the compiled struct. Older libbpf shows no such value: nullopt.
inline std::optional<bool> struct_ops_referenced(bpf_object* obj, const bpf_program* prog) {
  for (bpf_map* m = bpf_object__next_map(obj, nullptr); m; m = bpf_object__next_map(obj, m)) {
    if (bpf_map__type(m) != BPF_MAP_TYPE_STRUCT_OPS) continue;
    std::size_t size = 0;
    const auto* data = static_cast<const char*>(bpf_map__initial_value(m, &size));
    if (!data) return std::nullopt;
    for (std::size_t off = 0; off + sizeof(prog) <= size; off += 8)
      if (std::memcmp(data + off, &prog, sizeof(prog)) == 0) return true;
  }
  return false;
}

}  // namespace bpfprobe::objcheck
