// Text report for a terminal: one line per fact with its reason; colour optional.
#pragma once

#include <bpfprobe/config.hpp>
#include <bpfprobe/report/model.hpp>
#include <iosfwd>

namespace bpfprobe::render {

struct text_options {
  bool color = false;    // ANSI colours per status
  bool verbose = false;  // every helper per program type, kfunc prototypes, every reason
};

BPFPROBE_INLINE void text(std::ostream& out, const report& r, const text_options& opt = {});

}  // namespace bpfprobe::render

#ifdef BPFPROBE_HEADER_ONLY
#include <bpfprobe/report/impl/render_text.ipp>
#endif
