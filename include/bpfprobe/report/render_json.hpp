// The report as JSON (docs/json-report.md), or in the shape of `bpftool -j feature probe kernel`
// (same sections and keys; a fact bpfprobe could not decide is null). Written by report/json_writer.hpp,
// with no JSON library.
#pragma once

#include <bpfprobe/config.hpp>
#include <bpfprobe/report/model.hpp>
#include <string>

namespace bpfprobe::render {

// indent < 0: one line.
BPFPROBE_INLINE std::string json(const report& r, int indent = 2);
BPFPROBE_INLINE std::string bpftool_json(const report& r, int indent = 2);

}  // namespace bpfprobe::render

#ifdef BPFPROBE_HEADER_ONLY
#include <bpfprobe/report/impl/render_json.ipp>
#endif
