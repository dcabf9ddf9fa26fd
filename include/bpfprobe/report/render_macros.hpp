// C macros in bpftool's names (HAVE_*_PROG_TYPE, HAVE_*_MAP_TYPE, BPF__PROG_TYPE_x__HELPER_y, ...).
// A supported fact defines HAVE_x, an unsupported one NO_HAVE_x, an unknown one only a comment.
#pragma once

#include <bpfprobe/config.hpp>
#include <bpfprobe/report/model.hpp>
#include <iosfwd>

namespace bpfprobe::render {

BPFPROBE_INLINE void macros(std::ostream& out, const report& r);

}  // namespace bpfprobe::render

#ifdef BPFPROBE_HEADER_ONLY
#include <bpfprobe/report/impl/render_macros.ipp>
#endif
