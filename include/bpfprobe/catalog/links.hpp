// Link-type probes: for every bpf_link_type, does creating such a link really work here? Each link
// type has variants, one per attach type (or per API without one), each a row below naming its probe
// function (link_probes.hpp, link_probes_net.hpp). The link type is supported when one variant is.
// A link type is one row in probes/facts/link_types.tsv, its rows here with their probe function, and
// its maker in tests/kernel/link_makers.hpp; tests/unit/catalog_test.cpp checks all three agree.
#pragma once

#include <bpfprobe/catalog/link_probes.hpp>
#include <bpfprobe/catalog/link_probes_net.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::probe {

struct link_variant {
  std::string_view link_type;  // bpf_link_type name
  std::string attach_type;     // bpf_attach_type name; empty for an API that takes none
  std::string label;           // attach_type, or a name for an API variant without one
  verdict (*run)(const context&, std::string_view attach_type) = nullptr;
};

using link_probe_fn = verdict (*)(const context&, std::string_view attach_type);

// One variant of a link type, or, with each_attach_type, one variant per attach type the kernel
// defines that it accepts (in the kernel's enum order).
struct link_row {
  std::string_view link_type;    // bpf_link_type name
  std::string_view attach_type;  // bpf_attach_type name; empty for an API that takes none
  link_probe_fn run;
  std::string_view label = {};  // for an API without an attach type
  bool (*each_attach_type)(std::string_view attach_type) = nullptr;
};

namespace links_detail {
inline bool cgroup_attach(std::string_view a) { return a.starts_with("cgroup_") || a == "lsm_cgroup"; }
}  // namespace links_detail

// In the order a lazy query tries them.
inline constexpr link_row link_rows[] = {
    {"raw_tracepoint", "", links_detail::raw_tp_open, "raw_tracepoint_open"},
    {"raw_tracepoint", "trace_raw_tp", links_detail::tp_btf},
    {"tracing", "trace_fentry", links_detail::tracing},
    {"tracing", "trace_fexit", links_detail::tracing},
    {"tracing", "modify_return", links_detail::tracing},
    {"tracing", "lsm_mac", links_detail::tracing},
    {"tracing", "", links_detail::freplace, "freplace"},
    {"cgroup", "", links_detail::cgroup, {}, links_detail::cgroup_attach},
    {"iter", "trace_iter", links_detail::iter},
    {"netns", "sk_lookup", links_detail::netns},
    {"netns", "flow_dissector", links_detail::netns},
    {"xdp", "xdp", links_detail::xdp},
    {"perf_event", "perf_event", links_detail::perf_event},
    {"kprobe_multi", "trace_kprobe_multi", links_detail::kprobe_multi},
    {"kprobe_multi", "trace_kprobe_session", links_detail::kprobe_multi},
    {"struct_ops", "struct_ops", links_detail::struct_ops},
    {"netfilter", "netfilter", links_detail::netfilter},
    {"tcx", "tcx_ingress", links_detail::tcx},
    {"tcx", "tcx_egress", links_detail::tcx},
    {"uprobe_multi", "trace_uprobe_multi", links_detail::uprobe_multi},
    {"uprobe_multi", "trace_uprobe_session", links_detail::uprobe_multi},
    {"netkit", "netkit_primary", links_detail::netkit},
    {"netkit", "netkit_peer", links_detail::netkit},
    {"tracing_multi", "trace_fentry_multi", links_detail::tracing_multi},
    {"tracing_multi", "trace_fexit_multi", links_detail::tracing_multi},
    {"tracing_multi", "trace_fsession_multi", links_detail::tracing_multi},
    {"sockmap", "sk_msg_verdict", links_detail::sockmap},
    {"sockmap", "sk_skb_stream_verdict", links_detail::sockmap},
    {"sockmap", "sk_skb_stream_parser", links_detail::sockmap},
    {"sockmap", "sk_skb_verdict", links_detail::sockmap},
};

// The variants of one link type on this kernel, in the order a lazy query tries them.
inline std::vector<link_variant> link_variants(const context& ctx, std::string_view link_type) {
  std::vector<link_variant> out;
  for (const auto& row : link_rows) {
    if (row.link_type != link_type) continue;
    if (row.each_attach_type) {
      for (const auto& e : ctx.enums().attach_types)
        if (row.each_attach_type(e.name)) out.push_back({link_type, e.name, e.name, row.run});
      continue;
    }
    std::string label(row.label.empty() ? row.attach_type : row.label);
    out.push_back({link_type, std::string(row.attach_type), std::move(label), row.run});
  }
  return out;
}

// Runs one variant; an attach type the kernel does not define is unsupported without a test.
inline verdict run_variant(const context& ctx, const link_variant& v) {
  if (!v.attach_type.empty() && !ctx.attach_type(v.attach_type))
    return verdict::no("kernel does not define attach type " + v.attach_type, 0, ctx.enums().source);
  return v.run(ctx, v.attach_type);
}

// The link type's verdict from its variants' verdicts: supported when one is; unknown when none is
// and one could not be decided; unsupported when all say no.
inline verdict combine_variants(std::string_view link_type, const std::vector<link_variant>& variants,
                                const std::vector<verdict>& verdicts) {
  if (variants.empty()) return verdict::unknown("no probe for link type " + std::string(link_type) + " yet");
  const verdict* first_unknown = nullptr;
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    if (verdicts[i].supported()) return verdicts[i];
    if (verdicts[i].state == status::unknown && !first_unknown) first_unknown = &verdicts[i];
  }
  auto label = [&](const verdict* v) { return variants[static_cast<std::size_t>(v - verdicts.data())].label; };
  if (first_unknown) {
    verdict v = *first_unknown;
    v.reason = label(first_unknown) + ": " + v.reason;
    return v;
  }
  verdict v = verdicts.front();
  v.reason = label(&verdicts.front()) + ": " + v.reason;
  return v;
}

}  // namespace bpfprobe::probe
