// The report renderers that write to a stream (render_json.hpp holds the JSON ones).
#pragma once

#include <bpfprobe/config.hpp>
#include <bpfprobe/report/model.hpp>
#include <iosfwd>

namespace bpfprobe::render {

// Text report for a terminal: one line per fact with its reason; colour optional.
struct text_options {
  bool color = false;    // ANSI colours per status
  bool verbose = false;  // every helper per program type, kfunc prototypes, every reason
};

BPFPROBE_INLINE void text(std::ostream& out, const report& r, const text_options& opt = {});

// A Markdown report for people (issues, wikis, CI summaries): the kernel, a summary per
// section, then tables of every fact with its status and reason.
BPFPROBE_INLINE void markdown(std::ostream& out, const report& r);

// C macros in bpftool's names (HAVE_*_PROG_TYPE, HAVE_*_MAP_TYPE, BPF__PROG_TYPE_x__HELPER_y, ...).
// A supported fact defines HAVE_x, an unsupported one NO_HAVE_x, an unknown one only a comment.
BPFPROBE_INLINE void macros(std::ostream& out, const report& r);

}  // namespace bpfprobe::render

#ifdef BPFPROBE_HEADER_ONLY
#include <bpfprobe/report/impl/render_macros.ipp>
#include <bpfprobe/report/impl/render_markdown.ipp>
#include <bpfprobe/report/impl/render_text.ipp>
#endif
