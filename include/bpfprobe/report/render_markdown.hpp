// A Markdown report for people (issues, wikis, CI summaries): the kernel, a summary per
// section, then tables of every fact with its status and reason.
#pragma once

#include <bpfprobe/config.hpp>
#include <bpfprobe/report/model.hpp>
#include <iosfwd>

namespace bpfprobe::render {

BPFPROBE_INLINE void markdown(std::ostream& out, const report& r);

}  // namespace bpfprobe::render

#ifdef BPFPROBE_HEADER_ONLY
#include <bpfprobe/report/impl/render_markdown.ipp>
#endif
