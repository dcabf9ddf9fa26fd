// The candidate tables: for each hook, its attach paths in preference order and the facts each
// path needs. A path is supported when every need is; a need written "a|b" is met by either
// alternative (the first supported one is recorded). Nothing here looks at the kernel version.
#pragma once

#include <bpfprobe/decide/choice.hpp>
#include <bpfprobe/decide/inputs.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace bpfprobe::decide {

// Path names (the report's "path" values and what a policy forces or forbids).
namespace path {
inline constexpr std::string_view bpf_link = "bpf_link";
inline constexpr std::string_view netlink = "netlink";
inline constexpr std::string_view tcx = "tcx";
inline constexpr std::string_view prog_attach_multi = "prog_attach_multi";
inline constexpr std::string_view prog_attach_override = "prog_attach_override";
inline constexpr std::string_view fentry = "fentry";
inline constexpr std::string_view fexit = "fexit";
inline constexpr std::string_view kprobe_multi = "kprobe_multi";
inline constexpr std::string_view uprobe_multi = "uprobe_multi";
inline constexpr std::string_view perf_link = "perf_link";
inline constexpr std::string_view perf_ioctl = "perf_ioctl";
inline constexpr std::string_view tp_btf = "tp_btf";
inline constexpr std::string_view raw_tp = "raw_tp";
inline constexpr std::string_view ringbuf = "ringbuf";
inline constexpr std::string_view perf_event_array = "perf_event_array";
inline constexpr std::string_view iter_link = "iter_link";
}  // namespace path

struct path_row {
  std::string_view path;
  std::vector<std::string> needs;
};

namespace detail {

// "a|b": supported if one alternative is (the first such is `chosen`), unknown if none is but one
// is unknown, unsupported if all are.
inline requirement evaluate(const std::string& need, const lookup& facts, std::string* chosen = nullptr) {
  if (need.find('|') == std::string::npos) return {need, facts(need)};
  std::vector<requirement> alts;
  for (std::size_t pos = 0; pos <= need.size();) {
    auto bar = need.find('|', pos);
    if (bar == std::string::npos) bar = need.size();
    std::string key = need.substr(pos, bar - pos);
    alts.push_back({key, facts(key)});
    pos = bar + 1;
  }
  for (const auto& a : alts)
    if (a.v.supported()) {
      if (chosen) *chosen = a.key;
      return a;
    }
  std::string reasons;
  for (const auto& a : alts) reasons += (reasons.empty() ? "" : "; ") + a.key + ": " + a.v.reason;
  for (const auto& a : alts)
    if (a.v.state == status::unknown) return {need, verdict::unknown(reasons, a.v.err, a.v.evidence)};
  return {need, verdict::no(reasons, alts.front().v.err, alts.front().v.evidence)};
}

}  // namespace detail

inline choice decide_rows(std::string hook, const std::vector<path_row>& rows, const lookup& facts) {
  choice c;
  c.hook = std::move(hook);
  for (const auto& row : rows) {
    std::vector<requirement> met;
    for (const auto& need : row.needs) met.push_back(detail::evaluate(need, facts));
    verdict v = combine(met);
    // The reason of a supported path names the facts it rests on; of another, the first that failed.
    c.candidates.push_back({std::string(row.path), std::move(v), row.needs});
  }
  c.chosen = first_supported(c.candidates);
  return c;
}

// Which alternative of an "a|b" need is available ("attach:kprobe_pmu" -> "pmu").
inline std::string alternative(const std::string& need, const lookup& facts) {
  std::string chosen;
  auto r = detail::evaluate(need, facts, &chosen);
  if (!r.v.supported()) return {};
  auto under = chosen.rfind('_');
  return under == std::string::npos ? chosen : chosen.substr(under + 1);
}

// XDP: bpf_link (5.9) -> netlink IFLA_XDP. The mode (driver/generic/offload) depends on the device
// and is a policy option of the attach call, not a candidate.
inline choice xdp(const lookup& facts) {
  return decide_rows(
      "xdp",
      {{path::bpf_link, {"prog:xdp", "link:xdp"}}, {path::netlink, {"prog:xdp", "mechanism:legacy_netlink_xdp"}}},
      facts);
}

// TC: tcx link (6.6) -> netlink clsact qdisc + cls_bpf filter in direct-action mode.
inline choice tc(const lookup& facts) {
  return decide_rows(
      "tc",
      {{path::tcx, {"prog:sched_cls", "link:tcx"}}, {path::netlink, {"prog:sched_cls", "mechanism:legacy_tc_cls_bpf"}}},
      facts);
}

// cgroup: bpf_link (5.7) -> BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI (4.15) -> BPF_F_ALLOW_OVERRIDE.
inline choice cgroup(const lookup& facts, std::string_view prog_type = "cgroup_skb") {
  std::string prog = "prog:" + std::string(prog_type);
  return decide_rows("cgroup",
                     {{path::bpf_link, {prog, "link:cgroup"}},
                      {path::prog_attach_multi, {prog, "mechanism:prog_attach_allow_multi"}},
                      {path::prog_attach_override, {prog, "mechanism:prog_attach_allow_override"}}},
                     facts);
}

namespace detail {
inline choice with_event_source(choice c, const std::string& need, const lookup& facts) {
  std::string source = alternative(need, facts);
  c.attrs.emplace_back("event_source", source.empty() ? "none" : source);
  return c;
}
}  // namespace detail

// kprobe: fentry (BTF + a trampoline that really attaches) -> kprobe_multi (5.18, needs fprobe) ->
// perf-event link (5.15) -> PERF_EVENT_IOC_SET_BPF. The perf event comes from the kprobe PMU
// (4.17) or, without it, from tracefs kprobe_events. kretprobe: the same with fexit.
inline choice kprobe(const lookup& facts, bool retprobe = false) {
  const std::string events = "mechanism:kprobe_pmu|mechanism:kprobe_events_tracefs";
  auto c = decide_rows(retprobe ? "kretprobe" : "kprobe",
                       {{retprobe ? path::fexit : path::fentry,
                         {"prog:tracing", retprobe ? "link:tracing:trace_fexit" : "link:tracing:trace_fentry"}},
                        {path::kprobe_multi, {"prog:kprobe", "link:kprobe_multi:trace_kprobe_multi"}},
                        {path::perf_link, {"prog:kprobe", "link:perf_event", events}},
                        {path::perf_ioctl, {"prog:kprobe", events, "mechanism:legacy_perf_ioctl"}}},
                       facts);
  return detail::with_event_source(std::move(c), events, facts);
}

// uprobe: uprobe_multi (6.6) -> perf-event link -> PERF_EVENT_IOC_SET_BPF; event from the uprobe PMU
// or tracefs uprobe_events. uretprobe: the same.
inline choice uprobe(const lookup& facts, bool retprobe = false) {
  const std::string events = "mechanism:uprobe_pmu|mechanism:uprobe_events_tracefs";
  auto c = decide_rows(retprobe ? "uretprobe" : "uprobe",
                       {{path::uprobe_multi, {"prog:kprobe", "link:uprobe_multi:trace_uprobe_multi"}},
                        {path::perf_link, {"prog:kprobe", "link:perf_event", events}},
                        {path::perf_ioctl, {"prog:kprobe", events, "mechanism:legacy_perf_ioctl"}}},
                       facts);
  return detail::with_event_source(std::move(c), events, facts);
}

// tracepoint: tp_btf (5.5) -> raw_tp (4.17; a bpf_link since 5.7) -> perf tracepoint event with a
// perf-event link or PERF_EVENT_IOC_SET_BPF.
inline choice tracepoint(const lookup& facts) {
  return decide_rows("tracepoint",
                     {{path::tp_btf, {"prog:tracing", "link:raw_tracepoint:trace_raw_tp"}},
                      {path::raw_tp, {"prog:raw_tracepoint", "link:raw_tracepoint:raw_tracepoint_open"}},
                      {path::perf_link, {"prog:tracepoint", "link:perf_event"}},
                      {path::perf_ioctl, {"prog:tracepoint", "mechanism:legacy_perf_ioctl"}}},
                     facts);
}

// Output to user space from a program of `prog_type`: ring buffer (5.8) -> perf event array.
inline choice output(const lookup& facts, std::string_view prog_type = "kprobe") {
  std::string t(prog_type);
  auto c = decide_rows("output",
                       {{path::ringbuf, {"map:ringbuf", "helper:" + t + ":bpf_ringbuf_output"}},
                        {path::perf_event_array, {"map:perf_event_array", "helper:" + t + ":bpf_perf_event_output"}}},
                       facts);
  c.attrs.emplace_back("prog_type", t);
  return c;
}

// Iterator: a BPF_TRACE_ITER link (5.8) to `target`, with parameters (map, cgroup, task) from 5.10.
// The report's default target, bpf_map_elem, takes a map parameter; link:iter proves plain bpf_map.
inline choice iterator(const lookup& facts, std::string_view target = "bpf_map_elem") {
  std::string t(target);
  auto c = decide_rows("iterator", {{path::iter_link, {"prog:tracing", "link:iter", "attach:iter_" + t}}}, facts);
  c.attrs.emplace_back("target", t);
  return c;
}

inline constexpr std::string_view hook_names[] = {"xdp",    "tc",        "cgroup",     "kprobe", "kretprobe",
                                                  "uprobe", "uretprobe", "tracepoint", "output", "iterator"};

// One hook by its report name ("tc", "kretprobe", ...); nullopt for an unknown name.
inline std::optional<choice> hook(const lookup& facts, std::string_view name) {
  if (name == "xdp") return xdp(facts);
  if (name == "tc") return tc(facts);
  if (name == "cgroup") return cgroup(facts);
  if (name == "kprobe") return kprobe(facts);
  if (name == "kretprobe") return kprobe(facts, true);
  if (name == "uprobe") return uprobe(facts);
  if (name == "uretprobe") return uprobe(facts, true);
  if (name == "tracepoint") return tracepoint(facts);
  if (name == "output") return output(facts);
  if (name == "iterator") return iterator(facts);
  return std::nullopt;
}

// The hook as one verdict: supported when a path is chosen; unknown when none is but one could
// not be decided; unsupported when every path is. For --require attach:HOOK.
inline verdict hook_verdict(const choice& c) {
  if (!c.chosen.empty()) return verdict::yes("chosen path: " + c.chosen, c.find(c.chosen)->v.evidence);
  std::string reasons;
  const candidate* unknown = nullptr;
  for (const auto& cand : c.candidates) {
    reasons += (reasons.empty() ? "" : "; ") + cand.path + ": " + cand.v.reason;
    if (!unknown && cand.v.state == status::unknown) unknown = &cand;
  }
  if (unknown) return verdict::unknown(reasons, unknown->v.err, unknown->v.evidence);
  return verdict::no(reasons, c.candidates.empty() ? 0 : c.candidates.front().v.err);
}

// Every hook of the report, in the order it prints.
inline std::vector<choice> all(const lookup& facts) {
  return {xdp(facts),    tc(facts),         cgroup(facts), kprobe(facts),  kprobe(facts, true),
          uprobe(facts), tracepoint(facts), output(facts), iterator(facts)};
}

}  // namespace bpfprobe::decide
