// The choice logic of decide/ with fixed verdicts: which path each hook chooses on kernels that
// differ the way 5.10, 6.1 and 6.12 do, and how unknown and unsupported facts rank. No kernel needed.
#include <gtest/gtest.h>

#include <bpfprobe/decide/hooks.hpp>

namespace bpfprobe::decide {
namespace {

using table = std::map<std::string, verdict, std::less<>>;

// Every fact the tables ask for, supported (what 6.12 with kprobes and fprobe has).
table everything() {
  table t;
  for (const char* k : {"prog:xdp",
                        "prog:sched_cls",
                        "prog:cgroup_skb",
                        "prog:tracing",
                        "prog:kprobe",
                        "prog:raw_tracepoint",
                        "prog:tracepoint",
                        "link:xdp",
                        "link:tcx",
                        "link:cgroup",
                        "link:perf_event",
                        "link:iter",
                        "link:tracing:trace_fentry",
                        "link:tracing:trace_fexit",
                        "link:kprobe_multi:trace_kprobe_multi",
                        "link:uprobe_multi:trace_uprobe_multi",
                        "link:raw_tracepoint:trace_raw_tp",
                        "link:raw_tracepoint:raw_tracepoint_open",
                        "mechanism:legacy_netlink_xdp",
                        "mechanism:legacy_tc_cls_bpf",
                        "mechanism:prog_attach_allow_multi",
                        "mechanism:prog_attach_allow_override",
                        "mechanism:kprobe_pmu",
                        "mechanism:kprobe_events_tracefs",
                        "mechanism:uprobe_pmu",
                        "mechanism:uprobe_events_tracefs",
                        "mechanism:legacy_perf_ioctl",
                        "map:ringbuf",
                        "map:perf_event_array",
                        "helper:kprobe:bpf_ringbuf_output",
                        "helper:kprobe:bpf_perf_event_output",
                        "attach:iter_bpf_map_elem"})
    t[k] = verdict::yes("given");
  return t;
}

std::vector<std::string> statuses(const choice& c) {
  std::vector<std::string> out;
  for (const auto& cand : c.candidates) out.push_back(cand.path + "=" + std::string(to_string(cand.v.state)));
  return out;
}

TEST(Decide, NewKernelChoosesLinksEverywhere) {
  auto f = fixed(everything());
  EXPECT_EQ(xdp(f).chosen, "bpf_link");
  EXPECT_EQ(tc(f).chosen, "tcx");
  EXPECT_EQ(cgroup(f).chosen, "bpf_link");
  EXPECT_EQ(kprobe(f).chosen, "fentry");
  EXPECT_EQ(kprobe(f, true).chosen, "fexit");
  EXPECT_EQ(uprobe(f).chosen, "uprobe_multi");
  EXPECT_EQ(tracepoint(f).chosen, "tp_btf");
  EXPECT_EQ(output(f).chosen, "ringbuf");
  EXPECT_EQ(iterator(f).chosen, "iter_link");
  EXPECT_EQ(*kprobe(f).attr("event_source"), "pmu");
  EXPECT_EQ(statuses(tc(f)), (std::vector<std::string>{"tcx=supported", "netlink=supported"}));
}

// 6.1: no tcx and no uprobe_multi links (6.6): TC goes through netlink, uprobes through perf links.
TEST(Decide, WithoutTcxTcFallsBackToNetlink) {
  auto t = everything();
  t["link:tcx"] = verdict::no("kernel rejected it (EINVAL)", EINVAL);
  t["link:uprobe_multi:trace_uprobe_multi"] = verdict::no("kernel does not define attach type trace_uprobe_multi");
  auto f = fixed(t);
  auto c = tc(f);
  EXPECT_EQ(c.chosen, "netlink");
  EXPECT_EQ(c.candidates[0].v.state, status::unsupported);
  EXPECT_EQ(c.candidates[0].v.reason, "link:tcx: kernel rejected it (EINVAL)");
  EXPECT_EQ(c.candidates[0].v.err, EINVAL);
  EXPECT_EQ(uprobe(f).chosen, "perf_link");
}

// 5.10: no perf_event link (5.15) and no kprobe_multi (5.18); fentry works with BTF.
TEST(Decide, OlderKernelUsesIoctlWhenThereIsNoPerfLink) {
  auto t = everything();
  t["link:perf_event"] = verdict::no("kernel rejected it (EINVAL)", EINVAL);
  t["link:kprobe_multi:trace_kprobe_multi"] = verdict::no("no such attach type");
  t["link:tracing:trace_fentry"] = verdict::unknown("not permitted (EPERM)", EPERM);
  t["map:ringbuf"] = verdict::no("kernel does not define this map type");
  auto f = fixed(t);
  auto k = kprobe(f);
  EXPECT_EQ(k.chosen, "perf_ioctl");
  EXPECT_EQ(statuses(k), (std::vector<std::string>{"fentry=unknown", "kprobe_multi=unsupported",
                                                   "perf_link=unsupported", "perf_ioctl=supported"}));
  EXPECT_EQ(tracepoint(f).chosen, "tp_btf");
  EXPECT_EQ(output(f).chosen, "perf_event_array");
}

// This host: no kprobes at all, fentry EPERM. Nothing is chosen and each candidate says why.
TEST(Decide, NoKprobesAndEpermFentryChoosesNothing) {
  auto t = everything();
  t["link:tracing:trace_fentry"] = verdict::unknown("not permitted (EPERM)", EPERM);
  t["link:kprobe_multi:trace_kprobe_multi"] = verdict::no("cannot carry it out here (EOPNOTSUPP)", EOPNOTSUPP);
  t["mechanism:kprobe_pmu"] = verdict::no("no kprobe PMU");
  t["mechanism:kprobe_events_tracefs"] = verdict::no("no kprobe_events in tracefs");
  auto c = kprobe(fixed(t));
  EXPECT_EQ(c.chosen, "");
  EXPECT_EQ(*c.attr("event_source"), "none");
  EXPECT_EQ(c.candidates[0].v.state, status::unknown);  // EPERM is never "unsupported"
  EXPECT_NE(c.candidates[2].v.reason.find("no kprobe PMU"), std::string::npos);
  EXPECT_NE(c.candidates[2].v.reason.find("no kprobe_events in tracefs"), std::string::npos);
}

// Without the PMU the perf paths still work through tracefs, and say so.
TEST(Decide, TracefsEventsWhenThereIsNoPmu) {
  auto t = everything();
  t["mechanism:uprobe_pmu"] = verdict::no("no uprobe PMU");
  t["link:uprobe_multi:trace_uprobe_multi"] = verdict::no("no such attach type");
  auto c = uprobe(fixed(t));
  EXPECT_EQ(c.chosen, "perf_link");
  EXPECT_EQ(*c.attr("event_source"), "tracefs");
}

// An unknown fact makes its path unknown (not chosen), an unsupported one wins over unknown.
TEST(Decide, UnknownIsNeverChosenAndUnsupportedRanksFirst) {
  auto t = everything();
  t["link:xdp"] = verdict::unknown("cannot set up a veth pair");
  auto c = xdp(fixed(t));
  EXPECT_EQ(c.chosen, "netlink");
  EXPECT_EQ(c.candidates[0].v.state, status::unknown);

  t["prog:xdp"] = verdict::no("kernel does not define this program type");
  c = xdp(fixed(t));
  EXPECT_EQ(c.chosen, "");
  EXPECT_EQ(c.candidates[0].v.state, status::unsupported);
  EXPECT_EQ(c.candidates[0].v.reason, "prog:xdp: kernel does not define this program type");
}

TEST(Decide, MissingFactsAreUnknown) {
  auto c = cgroup(fixed({}));
  EXPECT_EQ(c.chosen, "");
  for (const auto& cand : c.candidates) EXPECT_EQ(cand.v.state, status::unknown) << cand.path;
}

TEST(Decide, OutputDependsOnTheProgramTypesHelpers) {
  auto t = everything();
  t["helper:xdp:bpf_ringbuf_output"] = verdict::no("helper not available to this program type");
  t["helper:xdp:bpf_perf_event_output"] = verdict::yes("given");
  auto c = output(fixed(t), "xdp");
  EXPECT_EQ(c.chosen, "perf_event_array");
  EXPECT_EQ(*c.attr("prog_type"), "xdp");
}

TEST(Decide, AllHooksInReportOrder) {
  std::vector<std::string> hooks;
  for (const auto& c : all(fixed(everything()))) hooks.push_back(c.hook);
  EXPECT_EQ(hooks, (std::vector<std::string>{"xdp", "tc", "cgroup", "kprobe", "kretprobe", "uprobe", "tracepoint",
                                             "output", "iterator"}));
}

TEST(Decide, HookVerdictForRequire) {
  auto t = everything();
  EXPECT_EQ(hook_verdict(*hook(fixed(t), "tc")).state, status::supported);
  EXPECT_EQ(hook_verdict(*hook(fixed(t), "tc")).reason, "chosen path: tcx");
  t["link:tracing:trace_fentry"] = verdict::unknown("EPERM", EPERM);
  t["link:kprobe_multi:trace_kprobe_multi"] = verdict::no("EOPNOTSUPP");
  t["mechanism:kprobe_pmu"] = verdict::no("no kprobe PMU");
  t["mechanism:kprobe_events_tracefs"] = verdict::no("no kprobe_events");
  EXPECT_EQ(hook_verdict(*hook(fixed(t), "kprobe")).state, status::unknown);  // fentry could not be decided
  t["link:tracing:trace_fentry"] = verdict::no("no BTF");
  EXPECT_EQ(hook_verdict(*hook(fixed(t), "kprobe")).state, status::unsupported);
  EXPECT_FALSE(hook(fixed(t), "nosuch"));
  EXPECT_EQ(hook(fixed(t), "uretprobe")->hook, "uretprobe");
}

}  // namespace
}  // namespace bpfprobe::decide
