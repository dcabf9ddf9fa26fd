// Attach mechanisms other than "create a link of type X": the legacy paths the attach layer falls
// back to (netlink XDP, clsact + cls_bpf, BPF_PROG_ATTACH on cgroups, PERF_EVENT_IOC_SET_BPF), how
// kprobes/uprobes are made (PMU or tracefs), perf_event links on those, and what can be done with
// a link once made (pin it so it outlives its process, update it, detach it). Each row carries out
// the mechanism for real on a private target and undoes it.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <bpfprobe/catalog/links.hpp>
#include <bpfprobe/sys/detached_mount.hpp>
#include <bpfprobe/sys/fork_gate.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::probe {

namespace mechanisms_detail {
using namespace link_setup;

// A link pinned by a child process is still there after the child exits: BPF_OBJ_GET opens it.
// The pin goes on a private bpffs instance mounted nowhere (sys::detached_mount): its pins, and
// so the link, go with our fd - also if we are killed, or the child pins after we died. Without
// the mount API (or the right to use it) the system bpffs is used, under a janitor claim.
inline verdict link_pin(const context& ctx) {
  std::optional<sys::detached_mount> private_fs;
  std::string dir;
  if (auto m = sys::detached_mount::create("bpf")) {
    private_fs.emplace(std::move(m).value());
    dir = private_fs->path();
  } else {
    auto bpffs = sys::mount_point_of("bpf");
    if (!bpffs)
      return missing_env("bpffs (not mounted; a private instance failed: " + m.error().describe() + ")", bpffs.error());
    dir = bpffs.value();
  }
  std::string tp = quiet_raw_tracepoint(ctx);
  if (tp.empty()) return verdict::unknown("no raw tracepoint to make a link on");
  auto prog = load(ctx, {.type = "raw_tracepoint"});
  if (!prog) return prog.v;
  static std::atomic<unsigned> counter{0};
  sys::scoped_pin pin(dir + "/" + std::string(sys::scoped_pin::name_prefix) + sys::janitor::owner_tag() + "-" +
                          std::to_string(counter.fetch_add(1)),
                      /*guard=*/!private_fs);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return verdict::unknown("pipe failed", errno);
  sys::unique_fd rd(report[0]), wr(report[1]);
  pid_t parent = ::getpid();
  sys::fork_guard forking(sys::fork_gate());
  pid_t pid = ::fork();
  if (pid != 0) forking.unlock();
  if (pid < 0) return verdict::unknown("fork failed", errno);
  if (pid == 0) {
    // Child: system calls only; it dies with the thread that forked it. Reports {stage, errno};
    // stage 0 means pinned.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(1);
    int msg[2] = {0, 0};
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.raw_tracepoint.name = sys::ptr_to_u64(tp.c_str());
    attr.raw_tracepoint.prog_fd = static_cast<std::uint32_t>(prog.fd->get());
    long link = sys::syscalls::active().bpf(BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
    if (link < 0) {
      msg[0] = 1;
      msg[1] = errno;
    } else {
      std::memset(&attr, 0, sizeof(attr));
      attr.pathname = sys::ptr_to_u64(pin.path().c_str());
      attr.bpf_fd = static_cast<std::uint32_t>(link);
      if (sys::syscalls::active().bpf(BPF_OBJ_PIN, &attr, sizeof(attr)) < 0) {
        msg[0] = 2;
        msg[1] = errno;
      }
    }
    (void)!::write(wr.get(), msg, sizeof(msg));
    ::_exit(0);
  }
  wr.reset();
  int msg[2] = {-1, 0};
  bool got = ::read(rd.get(), msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg));
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!got) return verdict::unknown("pin child died before reporting");
  if (msg[0] == 1)
    return verdict::unknown("pin child could not make a raw_tracepoint link", msg[1],
                            "BPF_RAW_TRACEPOINT_OPEN: " + sys::errno_name(msg[1]));
  if (msg[0] == 2) return attach_failed(ctx, {msg[1], "BPF_OBJ_PIN " + pin.path(), {}, {}});
  auto back = sys::obj_get(pin.path());
  if (!back) return attach_failed(ctx, back.error());
  return check_link(ctx, back.value(), "raw_tracepoint",
                    std::string("pinned by a child that exited (on ") +
                        (private_fs ? "a private bpffs instance" : dir) + "); reopened with BPF_OBJ_GET");
}

// A temporary cgroup v2 and two cgroup_skb ingress programs for it.
struct cgroup_and_two_progs {
  std::optional<sys::temp_cgroup> cg;
  sys::unique_fd a, b;
};

// Makes them; the verdict when that fails.
inline std::optional<verdict> make_cgroup_and_two_progs(const context& ctx, cgroup_and_two_progs& t) {
  auto cg = sys::temp_cgroup::create();
  if (!cg) return missing_env("a temporary cgroup v2", cg.error());
  for (sys::unique_fd* slot : {&t.a, &t.b}) {
    auto p = load(ctx, {.type = "cgroup_skb", .attach = "cgroup_inet_ingress", .ret = 1});
    if (!p) return p.v;
    *slot = std::move(*p.fd);
  }
  t.cg.emplace(std::move(cg).value());
  return std::nullopt;
}

// A cgroup link to change: BPF_LINK_UPDATE (5.7) swaps its program, BPF_LINK_DETACH (5.9) cuts it.
inline verdict cgroup_link_op(const context& ctx, bool update) {
  cgroup_and_two_progs t;
  if (auto fail = make_cgroup_and_two_progs(ctx, t)) return *fail;
  auto link = link_setup::link_create(ctx, {.prog_fd = t.a.get(),
                                            .target = static_cast<std::uint32_t>(t.cg->fd()),
                                            .attach_type = *attach_value(ctx, "cgroup_inet_ingress")});
  if (!link) return verdict::unknown("no cgroup link to work on: " + link.v.reason, link.v.err, link.v.evidence);
  auto r = update ? sys::link_update(link.fd->get(), t.b.get()) : sys::link_detach(link.fd->get());
  if (!r) return attach_failed(ctx, r.error());
  auto info = sys::link_info(link.fd->get());
  if (!info) return verdict::yes({}, update ? "BPF_LINK_UPDATE accepted" : "BPF_LINK_DETACH accepted");
  bpf_prog_info pinfo{};
  std::uint32_t want = 0;
  if (update && sys::obj_info(t.b.get(), pinfo)) want = pinfo.id;
  if (update && want && info.value().prog_id != want)
    return verdict::unknown("BPF_LINK_UPDATE accepted but the link still runs the old program");
  if (!update && info.value().cgroup.cgroup_id != 0)
    return verdict::unknown("BPF_LINK_DETACH accepted but the link still names its cgroup");
  return verdict::yes({}, update ? "cgroup link now runs the second program" : "cgroup link detached, fd still valid");
}

inline std::string xdp_mode_name(std::uint8_t attached) {
  switch (attached) {
    case XDP_ATTACHED_DRV: return "driver";
    case XDP_ATTACHED_SKB: return "generic";
    case XDP_ATTACHED_HW: return "offload";
    case XDP_ATTACHED_MULTI: return "several";
    default: return std::to_string(attached);
  }
}

// Loads `spec` and runs `f(nl, ifindex, where, prog_fd, prog_id)` on a veth of a private netns (or
// its lo when the kernel cannot make a veth pair): the legacy device attaches, read back by prog id.
template <class F>
verdict on_test_device(const context& ctx, const link_setup::prog_spec& spec, F f) {
  auto prog = load(ctx, spec);
  if (!prog) return prog.v;
  bpf_prog_info info{};
  (void)sys::obj_info(prog.fd->get(), info);
  return links_detail::with_device(
      "veth",
      [&](sys::rtnetlink& nl, int ifindex, const std::string& where) -> verdict {
        return f(nl, ifindex, where, prog.fd->get(), info.id);
      },
      links_detail::veth_failed);
}

// Legacy XDP: IFLA_XDP through rtnetlink (4.8), verified by reading the attached program back. On a
// veth, or on lo when the kernel cannot make a veth pair (links_detail::with_device).
inline verdict netlink_xdp(const context& ctx) {
  return on_test_device(
      ctx, {.type = "xdp", .ret = 2},
      [&](sys::rtnetlink& nl, int ifindex, const std::string& where, int prog_fd, std::uint32_t prog_id) -> verdict {
        if (auto r = sys::set_xdp(nl, ifindex, prog_fd); !r) return attach_failed(ctx, r.error());
        auto st = sys::get_xdp(nl, ifindex);
        (void)sys::set_xdp(nl, ifindex, -1);
        if (!st) return verdict::unknown("XDP set but reading it back failed", st.error().code, st.error().describe());
        if (st.value().attached == XDP_ATTACHED_NONE) return verdict::unknown("XDP set but the device reports none");
        if (prog_id && st.value().prog_id && st.value().prog_id != prog_id)
          return verdict::unknown("device reports another XDP program");
        return verdict::yes({}, "IFLA_XDP on " + where + " (attach mode " + xdp_mode_name(st.value().attached) + ")");
      });
}

// A qdisc or classifier kind the kernel does not have answers ENOENT ("Specified qdisc kind is
// unknown", "TC classifier not found") after the kernel tried to load its module: the legacy TC path
// needs that module, and this kernel has it neither built in nor loadable.
inline verdict tc_part_failed(const context& ctx, const sys::error& e, const char* module, const char* config) {
  if (e.code != ENOENT) return attach_failed(ctx, e);
  return verdict::no(std::string("needs module ") + module + " (" + config +
                         "), which this kernel has neither built in nor could load",
                     e.code, e.describe());
}

// Legacy TC: clsact qdisc (4.5) + cls_bpf filter in direct-action mode (4.4), read back by prog id.
inline verdict tc_cls_bpf(const context& ctx) {
  return on_test_device(
      ctx, {.type = "sched_cls"},
      [&](sys::rtnetlink& nl, int ifindex, const std::string& where, int prog_fd, std::uint32_t prog_id) -> verdict {
        if (auto r = sys::add_clsact(nl, ifindex); !r)
          return tc_part_failed(ctx, r.error(), "sch_ingress", "CONFIG_NET_SCH_INGRESS, the clsact qdisc");
        struct undo {
          sys::rtnetlink& nl;
          int ifindex;
          ~undo() { (void)sys::del_clsact(nl, ifindex); }
        } cleanup{nl, ifindex};
        if (auto r = sys::add_cls_bpf(nl, {.ifindex = ifindex, .prog_fd = prog_fd, .name = object_name}); !r)
          return tc_part_failed(ctx, r.error(), "cls_bpf", "CONFIG_NET_CLS_BPF");
        auto ids = sys::cls_bpf_prog_ids(nl, ifindex, sys::tc_direction::ingress);
        if (ids && prog_id && std::find(ids.value().begin(), ids.value().end(), prog_id) == ids.value().end())
          return verdict::unknown("cls_bpf filter added but the program is not listed");
        return verdict::yes({}, "clsact + cls_bpf direct-action filter on " + where);
      });
}

// BPF_PROG_ATTACH on a temporary cgroup with the given flags; ALLOW_MULTI attaches two programs.
inline verdict prog_attach_cgroup(const context& ctx, std::uint32_t flags) {
  cgroup_and_two_progs t;
  if (auto fail = make_cgroup_and_two_progs(ctx, t)) return *fail;
  std::uint32_t type = *attach_value(ctx, "cgroup_inet_ingress");
  auto first = sys::prog_attachment::attach(t.cg->fd(), t.a.get(), type, flags);
  if (!first) return attach_failed(ctx, first.error());
  std::optional<sys::prog_attachment> second;
  if (flags & BPF_F_ALLOW_MULTI) {
    auto s = sys::prog_attachment::attach(t.cg->fd(), t.b.get(), type, flags);
    if (!s) return attach_failed(ctx, s.error());
    second.emplace(std::move(s).value());
  }
  auto ids = sys::prog_query(t.cg->fd(), type);
  std::size_t want = second ? 2 : 1;
  if (ids && ids.value().size() != want)
    return verdict::unknown("attached, but BPF_PROG_QUERY lists " + std::to_string(ids.value().size()) + " programs");
  return verdict::yes({}, "BPF_PROG_ATTACH cgroup_inet_ingress on a temporary cgroup" +
                              std::string(flags & BPF_F_ALLOW_MULTI      ? " (two programs, BPF_F_ALLOW_MULTI)"
                                          : flags & BPF_F_ALLOW_OVERRIDE ? " (BPF_F_ALLOW_OVERRIDE)"
                                                                         : ""));
}

// PERF_EVENT_IOC_SET_BPF: a tracepoint program on a tracepoint perf event (4.7).
inline verdict perf_ioctl(const context& ctx) {
  auto tp = open_tracepoint_event(ctx);
  if (!tp) return tp.fail;
  if (auto r = sys::perf_set_bpf(tp.event.get(), tp.prog.get()); !r) return attach_failed(ctx, r.error());
  return verdict::yes({}, "PERF_EVENT_IOC_SET_BPF on tracepoint " + tp.name + tp.note);
}

// A kprobe/uprobe PMU: absent from event_source while sysfs shows other PMUs means no such PMU.
inline std::optional<verdict> pmu_missing(std::string_view name, const sys::error& e) {
  if (::access("/sys/bus/event_source/devices", F_OK) != 0)
    return verdict::unknown("/sys/bus/event_source/devices is not readable (sysfs not mounted?)", errno);
  if (e.code == ENOENT)
    return verdict::no("no " + std::string(name) + " PMU: kernel before 4.17 or built without " +
                           (name == "kprobe" ? "CONFIG_KPROBE_EVENTS" : "CONFIG_UPROBE_EVENTS"),
                       e.code, e.describe());
  return verdict::unknown("cannot read the " + std::string(name) + " PMU", e.code, e.describe());
}

inline sys::result<sys::unique_fd> open_probe_event(const context& ctx, const sys::pmu& p, std::string* what) {
  if (p.name == "kprobe") {
    std::string name = kernel_function_name(ctx);
    *what = "kprobe PMU event on " + name;
    return sys::open_kprobe(p, name);
  }
  auto code = sys::private_code_file::create();
  if (!code) return code.error();
  *what = "uprobe PMU event on a private memfd";
  return sys::open_uprobe(p, code.value().path(), code.value().offset());  // the event keeps the file
}

// perf_event_open on the kprobe/uprobe PMU (4.17); with `link`, a perf_event link on it (5.15).
inline verdict pmu_probe(const context& ctx, std::string_view name, bool link) {
  auto p = sys::find_pmu(name);
  if (!p) return *pmu_missing(name, p.error());
  std::string what;
  auto ev = open_probe_event(ctx, p.value(), &what);
  if (!ev) return attach_failed(ctx, ev.error());
  if (!link) return verdict::yes({}, what);
  auto prog = load(ctx, {.type = "kprobe"});
  if (!prog) return prog.v;
  return create_link(ctx,
                     {.prog_fd = prog.fd->get(),
                      .target = static_cast<std::uint32_t>(ev.value().get()),
                      .part = sys::link_parts::perf_event{}},
                     "perf_event", "perf_event", what);
}

// kprobe_events / uprobe_events in tracefs: the pre-PMU way, still what some tools use.
inline verdict tracefs_probe(const context& ctx, bool kprobe) {
  auto fs = sys::tracefs::locate();
  if (!fs) return missing_env("tracefs", fs.error());
  const char* file = kprobe ? "kprobe_events" : "uprobe_events";
  std::string control = fs.value().path() + "/" + file;
  std::string shown = fs.value().shown(file);
  // tracefs is mode 0700: unprivileged callers get EACCES, which says nothing about the kernel.
  if (int err = ::access(control.c_str(), F_OK) != 0 ? errno : 0; err != 0 && err != ENOENT)
    return verdict::unknown("cannot look into tracefs (" + sys::errno_name(err) + ")", err, shown);
  if (::access(control.c_str(), F_OK) != 0)
    return verdict::no(std::string("no ") + (kprobe ? "kprobe_events" : "uprobe_events") +
                           " in tracefs: kernel built without " +
                           (kprobe ? "CONFIG_KPROBE_EVENTS" : "CONFIG_UPROBE_EVENTS"),
                       ENOENT, shown);
  std::string def;
  std::optional<sys::private_code_file> code;  // outlives the event made on it
  std::string target;
  if (kprobe) {
    def = kernel_function_name(ctx);
  } else {
    auto made = sys::private_code_file::create();
    if (!made) return missing_env("a uprobe target file", made.error());
    code.emplace(std::move(made).value());
    def = code->path() + ":0x0";
    target = "a private memfd";
  }
  auto ev = sys::tracefs_probe_event::create(
      fs.value(), kprobe ? sys::tracefs_probe_event::kind::kprobe : sys::tracefs_probe_event::kind::uprobe, def);
  if (!ev) {
    verdict v = classify::from_error(ev.error(), ctx.rules(classify::side_step()));
    if (v.evidence.empty()) v.evidence = ev.error().describe();
    return v;
  }
  // Not opened as a perf event: closing one costs a tracepoint grace period under event_mutex, and
  // legacy_perf_ioctl already shows that tracepoint perf events take BPF programs.
  std::string note = fs.value().temporary() ? " (" + fs.value().note() + ")" : "";
  return verdict::yes({}, "event " + ev.value().name() + " on " + (target.empty() ? def : target) + " made (id " +
                              std::to_string(ev.value().id()) + ") and removed" + note);
}

// BPF_F_NETFILTER_IP_DEFRAG (6.6): the kernel request_module()s nf_defrag_ipv4 for the link and
// answers EINVAL when that fails, as kernels without the flag answer EINVAL for it. The reason says
// when the module is absent, so a kernel without loadable modules does not read as one without the flag.
inline verdict netfilter_ip_defrag(const context& ctx) {
  verdict v = links_detail::netfilter_hook(ctx, "netfilter", BPF_F_NETFILTER_IP_DEFRAG);
  if (v.state == status::unsupported && v.err == EINVAL && ::access("/sys/module/nf_defrag_ipv4", F_OK) != 0)
    v.reason +=
        "; module nf_defrag_ipv4, which the flag needs, is not loaded (no /sys/module/nf_defrag_ipv4): a "
        "kernel that cannot load it answers EINVAL too";
  return v;
}

}  // namespace mechanisms_detail

struct mechanism_probe {
  doc info;  // name, and first kernel/commit from attach_docs by key
  std::function<verdict(const context&)> run;
  // A full report takes this row as supported, without running it, when the named row is: a
  // perf_event link on a PMU event shows the PMU works (and saves one perf event teardown).
  std::string_view implied_by = {};
};

inline doc mechanism_doc(std::string_view name, std::string_view key) {
  const doc* d = find_doc(attach_docs, key);
  return d ? doc{name, d->first_kernel, d->commit} : doc{name, "", ""};
}

// Names are part of the report (section "attach_mechanisms"); the attach layer relies on them.
inline const std::vector<mechanism_probe>& mechanism_probes() {
  using namespace mechanisms_detail;
  auto variant = [](const char* link, const char* label) {
    return [link, label](const context& ctx) {
      for (const auto& v : link_variants(ctx, link))
        if (v.label == label) return run_variant(ctx, v);
      return verdict::unknown("no such link variant");
    };
  };
  static const std::vector<mechanism_probe> rows = {
      {mechanism_doc("link_pin", "link_pinning"), link_pin},
      {mechanism_doc("link_update", "link_update"), [](const context& c) { return cgroup_link_op(c, true); }},
      {mechanism_doc("link_detach", "link_detach"), [](const context& c) { return cgroup_link_op(c, false); }},
      {mechanism_doc("raw_tracepoint_open", "raw_tp_link"), variant("raw_tracepoint", "raw_tracepoint_open")},
      {mechanism_doc("freplace_link", "freplace_link_create"), variant("tracing", "freplace")},
      {mechanism_doc("legacy_netlink_xdp", "netlink_xdp"), netlink_xdp},
      {mechanism_doc("legacy_tc_cls_bpf", "tc_cls_bpf"), tc_cls_bpf},
      {mechanism_doc("legacy_prog_attach_cgroup", "prog_attach"),
       [](const context& c) { return prog_attach_cgroup(c, 0); }},
      {mechanism_doc("prog_attach_allow_override", "prog_attach_allow_override"),
       [](const context& c) { return prog_attach_cgroup(c, BPF_F_ALLOW_OVERRIDE); }},
      {mechanism_doc("prog_attach_allow_multi", "prog_attach_allow_multi"),
       [](const context& c) { return prog_attach_cgroup(c, BPF_F_ALLOW_MULTI); }},
      {mechanism_doc("legacy_perf_ioctl", "perf_ioc_set_bpf_tracepoint"), perf_ioctl},
      {mechanism_doc("kprobe_pmu", "pmu_kprobe"), [](const context& c) { return pmu_probe(c, "kprobe", false); },
       "perf_link_kprobe"},
      {mechanism_doc("uprobe_pmu", "pmu_uprobe"), [](const context& c) { return pmu_probe(c, "uprobe", false); },
       "perf_link_uprobe"},
      {mechanism_doc("perf_link_kprobe", "perf_event_link"),
       [](const context& c) { return pmu_probe(c, "kprobe", true); }},
      {mechanism_doc("perf_link_uprobe", "perf_event_link"),
       [](const context& c) { return pmu_probe(c, "uprobe", true); }},
      {mechanism_doc("kprobe_events_tracefs", "perf_ioc_set_bpf_kprobe"),
       [](const context& c) { return tracefs_probe(c, true); }},
      {mechanism_doc("uprobe_events_tracefs", "perf_ioc_set_bpf_uprobe"),
       [](const context& c) { return tracefs_probe(c, false); }},
      {mechanism_doc("netfilter_ip_defrag", "netfilter_ip_defrag"), netfilter_ip_defrag},
  };
  return rows;
}

}  // namespace bpfprobe::probe
