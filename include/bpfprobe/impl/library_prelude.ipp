// Part of the implementation (BPFPROBE_IMPLEMENTATION, see bpfprobe/prober.hpp): the full prober and
// the lower layers the handle's definitions call, named here, before the handle's declarations
// (bpfprobe::lib::prober, compat::lib::configure) make the unqualified names ambiguous.
#pragma once

#include <bpfprobe/compat/configure.hpp>
#include <bpfprobe/compat/report.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <bpfprobe/prober/prober.hpp>

namespace bpfprobe::lib_impl {
using full_prober = ::bpfprobe::prober;
inline sys::result<compat::selection> configure(full_prober& p, bpf_object* obj, const compat::options& opt) {
  return compat::configure(p, obj, opt);
}
inline std::string to_string(const compat::selection& sel) { return compat::to_string(sel); }
}  // namespace bpfprobe::lib_impl
