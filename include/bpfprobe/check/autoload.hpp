// apply_autoload: at startup, switch off the programs that cannot load here when a sibling
// program of the same object covers their hook (the hand-written fentry_can_attach() pattern).
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/check/model.hpp>

namespace bpfprobe {

// Returns how many programs were switched off. Only programs whose `instead` names a sibling
// ("program NAME") are touched; a program without a covering sibling keeps its autoload. So is one
// whose result is unknown from static prediction alone: only a failed trial load is evidence enough.
inline std::size_t apply_autoload(bpf_object* obj, const objcheck::object_result& r) {
  std::size_t off = 0;
  for (const auto& p : r.programs) {
    if (p.result.supported() || !p.instead.starts_with("program ")) continue;
    if (p.result.state == status::unknown && !p.trial) continue;
    if (bpf_program* prog = bpf_object__find_program_by_name(obj, p.name.c_str())) {
      if (bpf_program__autoload(prog) && bpf_program__set_autoload(prog, false) == 0) ++off;
    }
  }
  return off;
}

}  // namespace bpfprobe
