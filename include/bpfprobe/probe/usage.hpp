// Shared by probes that prove a feature with a program that really uses it (dynptr, iterators):
// such a program must load. A rejection that a classify rule explains ("invalid func", "calling
// kernel function … is not allowed") is unsupported; any other rejection only says our program
// did not pass this verifier, so it is unknown with the deciding line, never unsupported.
#pragma once

#include <bpfprobe/probe/context.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>

namespace bpfprobe::probe {

inline verdict must_load_verdict(const context& ctx, const sys::error& e) {
  verdict v = classify::from_error(e, ctx.rules(classify::side_step()));
  if (v.state == status::unknown && !classify::deciding_line(e.log).empty() && e.code != EPERM)
    v.reason = "verifier rejected the test program (" + sys::errno_name(e.code) + ")";
  return v;
}

template <class T>
inline verdict must_load_verdict(const context& ctx, const sys::result<T>& r, std::string ok_reason) {
  if (r) return verdict::yes(std::move(ok_reason));
  return must_load_verdict(ctx, r.error());
}

// Appends " [detail]" to a verdict's evidence.
inline void add_evidence(verdict& v, const std::string& detail) {
  if (detail.empty()) return;
  v.evidence = v.evidence.empty() ? detail : v.evidence + " [" + detail + "]";
}

}  // namespace bpfprobe::probe
