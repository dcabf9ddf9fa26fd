// Link-type probe functions: each loads the smallest program of the right type, attaches it to a
// real, private target and checks with link info that the kernel made a link of that type. Which
// function runs for which link and attach type is the row table in links.hpp.
//
// Targets here: a temporary cgroup v2 for cgroup links, a tracefs tracepoint perf event for perf_event
// links, bpf_fentry_test1 for tracing and kprobe_multi links, a private memfd for uprobe_multi, a
// tcp_congestion_ops struct_ops map. Network links are in link_probes_net.hpp.
#pragma once

#include <atomic>
#include <bpfprobe/catalog/link_setup.hpp>
#include <bpfprobe/catalog/map_types.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::probe {

namespace links_detail {
using namespace link_setup;

// tracing links (fentry/fexit/fmod_ret/lsm) and tp_btf raw_tracepoint links (link_setup::btf_link_or_raw_tp).
inline verdict create_btf_link(const context& ctx, int prog_fd, std::uint32_t attach, std::string_view link_type,
                               const std::string& what) {
  std::string_view call;
  auto link = btf_link_or_raw_tp(ctx, prog_fd, attach, &call);
  if (!link) return link.v;
  return check_link(ctx, *link.fd, link_type, std::string(call) + " " + what);
}

// raw_tp program by tracepoint name (4.17; a bpf_link since 5.7). c4f6699dfcb8, 70ed506c3bbc.
inline verdict raw_tp_open(const context& ctx, std::string_view) {
  std::string tp = quiet_raw_tracepoint(ctx);
  if (tp.empty()) return verdict::unknown("no raw tracepoint found in kernel BTF");
  auto prog = load(ctx, {.type = "raw_tracepoint"});
  if (!prog) return prog.v;
  auto link = sys::raw_tracepoint_open(prog.fd->get(), tp.c_str());
  if (!link) return attach_failed(ctx, link.error());
  return check_link(ctx, link.value(), "raw_tracepoint", "BPF_RAW_TRACEPOINT_OPEN " + tp);
}

// tp_btf: a tracing program on a btf_trace_<tp> typedef (5.5, f1b9509c2fb0).
inline verdict tp_btf(const context& ctx, std::string_view attach) {
  std::uint32_t id = 0;
  std::string tp = quiet_raw_tracepoint(ctx, &id);
  if (!id) return verdict::unknown("no btf_trace_* typedef in kernel BTF");
  auto prog = load(ctx, {.type = "tracing", .attach = attach, .attach_btf_id = id});
  if (!prog) return prog.v;
  return create_btf_link(ctx, prog.fd->get(), *attach_value(ctx, attach), "raw_tracepoint", "tp_btf " + tp);
}

// fentry/fexit (5.5), fmod_ret (5.7), lsm (5.7): a real trampoline attach, not just a load.
inline verdict tracing(const context& ctx, std::string_view attach) {
  std::optional<std::pair<std::string, std::uint32_t>> target;
  if (attach == "modify_return")
    target = first_func(ctx, targets::modify_return_functions);
  else if (attach == "lsm_mac")
    target = first_func(ctx, targets::lsm_hooks);
  else
    target = kernel_function(ctx);
  if (!target) return verdict::unknown("no attach target for " + std::string(attach) + " in kernel BTF");
  auto prog =
      load(ctx, {.type = attach == "lsm_mac" ? "lsm" : "tracing", .attach = attach, .attach_btf_id = target->second});
  if (!prog) return prog.v;
  return trampoline_verdict(create_btf_link(ctx, prog.fd->get(), *attach_value(ctx, attach), "tracing",
                                            std::string(attach) + " " + target->first));
}

// freplace: an extension program replacing a global function of a program of ours (5.6; link 5.10).
inline verdict freplace(const context& ctx, std::string_view) {
  auto ext = ctx.prog_type("ext");
  if (!ext) return verdict::no("kernel does not define program type ext");
  load_setup s = setup_for(ctx, "ext", static_cast<std::uint32_t>(*ext));
  if (!s.gap.empty()) return verdict::unknown("cannot set up an extension target: " + s.gap);
  const auto body = insn::return_zero();
  s.args.insns = body;
  s.args.name = object_name;
  auto prog = sys::prog_load(s.args);
  if (!prog) return load_failed(ctx, prog.error(), "ext");
  return trampoline_verdict(
      create_btf_link(ctx, prog.value().get(), 0, "tracing", "freplace of our sched_cls program"));
}

// The program type that goes with a cgroup attach type (by the attach type's name).
inline std::string_view cgroup_prog_type(std::string_view attach) {
  auto has = [&](std::string_view s) { return attach.find(s) != std::string_view::npos; };
  if (attach == "lsm_cgroup") return "lsm";
  if (has("inet_ingress") || has("inet_egress")) return "cgroup_skb";
  if (has("sock_create") || has("sock_release") || has("post_bind")) return "cgroup_sock";
  if (has("sock_ops")) return "sock_ops";
  if (has("device")) return "cgroup_device";
  if (has("sysctl")) return "cgroup_sysctl";
  if (has("sockopt")) return "cgroup_sockopt";
  if (has("bind") || has("connect") || has("sendmsg") || has("recvmsg") || has("getpeername") || has("getsockname"))
    return "cgroup_sock_addr";
  return {};
}

// cgroup links (5.7, af6eea57437a) on an empty temporary cgroup v2.
inline verdict cgroup(const context& ctx, std::string_view attach) {
  prog_spec spec{.type = cgroup_prog_type(attach), .attach = attach, .ret = 1};
  if (spec.type.empty()) return verdict::unknown("no program type known for attach type " + std::string(attach));
  if (attach == "lsm_cgroup") {
    auto hook = first_func(ctx, targets::lsm_cgroup_hooks);
    if (!hook) return verdict::unknown("no LSM hook for lsm_cgroup in kernel BTF");
    spec.attach_btf_id = hook->second;
  }
  auto cg = sys::temp_cgroup::create();
  if (!cg) return missing_env("a temporary cgroup v2", cg.error());
  auto prog = load(ctx, spec);
  if (!prog) return prog.v;
  return create_link(ctx, {.prog_fd = prog.fd->get(), .target = static_cast<std::uint32_t>(cg.value().fd())}, attach,
                     "cgroup", std::string(attach) + " on a temporary cgroup");
}

// iter links (5.8, de4e05cac46d): the bpf_map iterator, read once.
inline verdict iter(const context& ctx, std::string_view attach) {
  auto target = first_func(ctx, {"bpf_iter_bpf_map"});
  if (!target) return verdict::unknown("no bpf_iter_bpf_map target in kernel BTF");
  auto prog = load(ctx, {.type = "tracing", .attach = attach, .attach_btf_id = target->second});
  if (!prog) return prog.v;
  auto link = sys::iter_link_create(prog.fd->get(), {}, *attach_value(ctx, attach));
  if (!link) return attach_failed(ctx, link.error());
  verdict v = check_link(ctx, link.value(), "iter", "bpf_map iterator");
  auto seq = sys::iter_create(link.value().get());
  if (!seq)
    return verdict::unknown("iter link made but BPF_ITER_CREATE failed", seq.error().code, seq.error().describe());
  char buf[256];
  if (::read(seq.value().get(), buf, sizeof(buf)) < 0)
    return verdict::unknown("iter link made but reading it failed", errno, "read: " + sys::errno_name(errno));
  if (v.supported()) v.evidence += ", read once";
  return v;
}

// perf_event links (5.15, b89fbfbb854c) on a tracepoint perf event.
inline verdict perf_event(const context& ctx, std::string_view attach) {
  auto tp = open_tracepoint_event(ctx);
  if (!tp) return tp.fail;
  verdict v = create_link(ctx,
                          {.prog_fd = tp.prog.get(),
                           .target = static_cast<std::uint32_t>(tp.event.get()),
                           .part = sys::link_parts::perf_event{}},
                          attach, "perf_event", "tracepoint " + tp.name + " perf event");
  v.evidence += tp.note;
  return v;
}

// kprobe_multi links (5.18, 0dcac2725406) and kprobe session (6.10, 535a3692ba72): fprobe-based.
inline verdict kprobe_multi(const context& ctx, std::string_view attach) {
  auto fn = kernel_function(ctx);
  if (!fn) return verdict::unknown("no kernel function to attach to in kernel BTF");
  auto prog = load(ctx, {.type = "kprobe", .attach = attach});
  if (!prog) return prog.v;
  const char* syms[] = {fn->first.c_str()};
  return create_link(ctx, {.prog_fd = prog.fd->get(), .part = sys::link_parts::kprobe_multi{.syms = syms}}, attach,
                     "kprobe_multi", std::string(attach) + " on " + fn->first);
}

// tracing_multi links (7.2): a fentry/fexit/fsession multi program attached by BTF id to a kernel
// function. The program is loaded without an attach target, or, if the kernel wants one, with the
// function itself.
inline verdict tracing_multi(const context& ctx, std::string_view attach) {
  auto fn = kernel_function(ctx);
  if (!fn) return verdict::unknown("no kernel function to attach to in kernel BTF");
  auto prog = load(ctx, {.type = "tracing", .attach = attach});
  if (!prog) prog = load(ctx, {.type = "tracing", .attach = attach, .attach_btf_id = fn->second});
  if (!prog) return prog.v;
  const std::uint32_t ids[] = {fn->second};
  return create_link(ctx, {.prog_fd = prog.fd->get(), .part = sys::link_parts::tracing_multi{.ids = ids}}, attach,
                     "tracing_multi", std::string(attach) + " on " + fn->first);
}

// uprobe_multi links (6.6, 89ae89f53d20) and uprobe session (6.13, d920179b3d48) on a private
// memfd (sys::private_code_file): nothing else maps it, so a kill never leaks the uprobe.
inline verdict uprobe_multi(const context& ctx, std::string_view attach) {
  auto code = sys::private_code_file::create();
  if (!code) return missing_env("a uprobe target file", code.error());
  auto prog = load(ctx, {.type = "kprobe", .attach = attach});
  if (!prog) return prog.v;
  const std::uint64_t offsets[] = {code.value().offset()};
  return create_link(ctx,
                     {.prog_fd = prog.fd->get(),
                      .part = sys::link_parts::uprobe_multi{.path = code.value().path().c_str(), .offsets = offsets}},
                     attach, "uprobe_multi", std::string(attach) + " on a private memfd");
}

// struct_ops links (6.4, 68b04864ca42): a tcp_congestion_ops registered through a BPF_F_LINK map.
// The kernel requires ssthresh, undo_cwnd and cong_avoid; the algorithm exists only while the link
// is held and no socket uses it.
inline verdict struct_ops(const context& ctx, std::string_view attach) {
  const auto* k = ctx.kernel_btf();
  if (!k) return verdict::unknown("no kernel BTF for a struct_ops type");
  auto ops = k->find_struct("tcp_congestion_ops");
  auto value = k->find_struct("bpf_struct_ops_tcp_congestion_ops");
  if (!ops || !value) return verdict::unknown("no tcp_congestion_ops struct_ops type in kernel BTF");
  auto value_size = k->type_size(*value);
  auto data_idx = k->member_index(*value, "data");
  auto map_type = btf::kernel_enums::value_of(ctx.enums().map_types, "struct_ops");
  if (!value_size || !data_idx || !map_type)
    return verdict::unknown("unexpected struct_ops value layout in kernel BTF");
  const btf_type* vt = btf__type_by_id(k->get(), *value);
  const btf_type* ot = btf__type_by_id(k->get(), *ops);
  std::size_t data_off = btf_member_bit_offset(vt, *data_idx) / 8;

  std::vector<unsigned char> buf(*value_size, 0);
  std::vector<sys::unique_fd> progs;
  for (const char* member : {"ssthresh", "undo_cwnd", "cong_avoid"}) {
    auto idx = k->member_index(*ops, member);
    if (!idx) return verdict::unknown(std::string("tcp_congestion_ops has no member ") + member);
    auto type = ctx.prog_type("struct_ops");
    if (!type) return verdict::no("kernel does not define program type struct_ops");
    const auto body = insn::assemble(insn::mov64_imm(insn::r0, 1), insn::exit());
    auto fd = sys::prog_load({.type = static_cast<std::uint32_t>(*type),
                              .insns = body,
                              .expected_attach_type = *idx,
                              .attach_btf_id = *ops,
                              .name = object_name});
    if (!fd) return load_failed(ctx, fd.error(), std::string("struct_ops tcp_congestion_ops.") + member);
    std::uint64_t slot = static_cast<std::uint64_t>(fd.value().get());
    std::memcpy(buf.data() + data_off + btf_member_bit_offset(ot, *idx) / 8, &slot, sizeof(slot));
    progs.push_back(std::move(fd).value());
  }
  auto name_idx = k->member_index(*ops, "name");
  if (!name_idx) return verdict::unknown("tcp_congestion_ops has no member name");
  static std::atomic<unsigned> counter{0};  // algorithm names are global: unique per process and call
  std::string ca = "bpfp" + std::to_string(::getpid() % 100000) + "_" + std::to_string(counter.fetch_add(1) % 10000);
  std::memcpy(buf.data() + data_off + btf_member_bit_offset(ot, *name_idx) / 8, ca.c_str(), ca.size() + 1);

  auto btf_fd = int_btf();
  if (!btf_fd) return missing_env("a BTF object for the struct_ops map", btf_fd.error());
  auto map = sys::map_create({.type = static_cast<std::uint32_t>(*map_type),
                              .key_size = 4,
                              .value_size = *value_size,
                              .max_entries = 1,
                              .map_flags = BPF_F_LINK,
                              .btf_fd = btf_fd.value().get(),
                              .btf_vmlinux_value_type_id = *value,
                              .name = object_name});
  // Without BPF_F_LINK (before 6.4) the map is refused: struct_ops could then only be registered by
  // a map update, never through a link.
  if (!map) return attach_failed(ctx, map.error());
  std::uint32_t key = 0;
  if (auto u = sys::map_update(map.value().get(), &key, buf.data()); !u)
    return verdict::unknown("struct_ops map update failed", u.error().code, u.error().describe());
  return create_link(ctx, {.prog_fd = map.value().get()}, attach, "struct_ops",
                     "tcp_congestion_ops \"" + ca + "\" through a BPF_F_LINK map");
}

}  // namespace links_detail

}  // namespace bpfprobe::probe
