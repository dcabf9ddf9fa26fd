// Built-in enum tables, used only when the kernel has no BTF: program/map/link/attach types come
// from probes/facts/*.tsv (enum_values.hpp, generated), helpers from the uapi header of the build.
// A kernel with BTF is always described from its own enums instead.
#pragma once

#include <linux/bpf.h>

#include <bpfprobe/btf/enum_values.hpp>
#include <cstdint>
#include <string_view>
#include <vector>

namespace bpfprobe::btf {

// Helper names as the uapi header this binary was built with knows them.
inline std::vector<named_value> builtin_helpers() {
  std::vector<named_value> out;
#if defined(___BPF_FUNC_MAPPER)
#define BPFPROBE_HELPER_ROW(name, id, ...) out.push_back({"bpf_" #name, id});
  ___BPF_FUNC_MAPPER(BPFPROBE_HELPER_ROW)
#undef BPFPROBE_HELPER_ROW
#else
  std::int64_t id = 0;
#define BPFPROBE_HELPER_ROW(name) out.push_back({"bpf_" #name, id++});
  __BPF_FUNC_MAPPER(BPFPROBE_HELPER_ROW)
#undef BPFPROBE_HELPER_ROW
#endif
  if (!out.empty() && out.front().value == 0) out.erase(out.begin());  // "unspec"
  return out;
}

}  // namespace bpfprobe::btf
