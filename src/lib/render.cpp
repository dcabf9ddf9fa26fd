// The compiled library's report renderers (bpfprobe/report/render_*.hpp): their definitions, once.
#include <bpfprobe/report/impl/render_json.ipp>
#include <bpfprobe/report/impl/render_macros.ipp>
#include <bpfprobe/report/impl/render_markdown.ipp>
#include <bpfprobe/report/impl/render_text.ipp>
