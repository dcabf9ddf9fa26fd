// Kfunc probes: "call <kfunc>; r0 = 0; exit" (BPF_PSEUDO_KFUNC_CALL by BTF id) loaded as a program
// type. The verifier resolves the BTF id and checks the program type's kfunc sets before it looks at
// the arguments, so "calling kernel function X is not allowed" means not for this type and any later
// rejection (an argument check, a leaked reference, "must be sleepable") means the type may call it.
// Kfunc calls came in 5.13 (e6ac2450d6de); module kfuncs through fd_array in 5.16 (2357672c54c3).
#pragma once
#include <algorithm>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bpfprobe::probe {

// One way to load a program of a type that calls a kfunc.
struct call_site {
  std::string prog_type;  // "tracing"
  std::string variant;    // "tp_btf sched_switch", "tcp_congestion_ops.ssthresh", or empty
  load_setup setup;
  // Set when "r0 = 0; exit" of this set-up is refused before the verifier runs (EPERM under
  // lockdown, ...): every kfunc probe here would be, so none is made.
  std::optional<verdict> blocked;
  // For set-ups that hold kernel objects (the extension target of ext): made afresh for each
  // session, so that nothing stays open between queries; `setup` is then only a description.
  std::function<load_setup()> make;
  [[nodiscard]] std::string label() const { return variant.empty() ? prog_type : prog_type + " (" + variant + ")"; }
};

// What a call instruction needs: the BTF id and, for a module kfunc, the fd_array slot of its BTF.
struct kfunc_call {
  std::uint32_t btf_id = 0;
  const int* fd_array = nullptr;
  std::int16_t fd_index = 0;
  std::string gap;  // why the call cannot be made (module BTF object not found), if so
};

namespace kfunc_detail {

inline constexpr std::string_view not_allowed = "kfunc not allowed for this program type";

// XDP metadata kfuncs (6.3, 3d76a4d3d4e5) are refused before the program-type check unless the
// program is bound to a device; only XDP programs can be.
inline constexpr std::string_view dev_bound_line = "metadata kfuncs require device-bound program";

// tp_btf: a tracing program on a raw tracepoint's BTF typedef (loads where fentry is refused).
inline std::optional<call_site> tp_btf_site(const context& ctx, std::uint32_t tracing) {
  auto target = first_tp_btf_target(ctx);
  if (!target) return std::nullopt;
  call_site s{"tracing", "tp_btf " + target->first, {}, {}, {}};
  s.setup.args.type = tracing;
  s.setup.args.expected_attach_type = BPF_TRACE_RAW_TP;
  s.setup.args.attach_btf_id = target->second;
  return s;
}

// Every struct_ops type the kernel registers (a `bpf_struct_ops_<name>` value struct wraps `data`
// of type `struct <name>`), each with its first function-pointer member.
inline std::vector<call_site> struct_ops_sites(const context& ctx, std::uint32_t struct_ops) {
  std::vector<call_site> out;
  const auto* k = ctx.kernel_btf();
  if (!k) return out;
  const struct btf* b = k->get();
  for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_struct(t)) continue;
    std::string_view name = btf__name_by_offset(b, t->name_off);
    if (!name.starts_with("bpf_struct_ops_")) continue;
    auto data = k->member_index(id, "data");
    if (!data) continue;
    std::uint32_t ops_id = btf_members(t)[*data].type;
    const btf_type* ops = btf__type_by_id(b, ops_id);
    if (!ops || !btf_is_struct(ops)) continue;
    const btf_member* m = btf_members(ops);
    for (unsigned i = 0; i < btf_vlen(ops); ++i) {
      const btf_type* mt = btf__type_by_id(b, btf__resolve_type(b, m[i].type));
      if (!mt || !btf_is_ptr(mt)) continue;
      const btf_type* fn = btf__type_by_id(b, btf__resolve_type(b, mt->type));
      if (!fn || !btf_is_func_proto(fn)) continue;
      if (!btf::is_identifier(btf__name_by_offset(b, ops->name_off)) ||
          !btf::is_identifier(btf__name_by_offset(b, m[i].name_off)))
        break;  // a name that could not come from a sane BTF never reaches output
      call_site s{"struct_ops",
                  std::string(btf__name_by_offset(b, ops->name_off)) + "." + btf__name_by_offset(b, m[i].name_off),
                  {},
                  {},
                  {}};
      s.setup.args.type = struct_ops;
      s.setup.args.attach_btf_id = ops_id;
      s.setup.args.expected_attach_type = i;
      out.push_back(std::move(s));
      break;
    }
  }
  return out;
}

}  // namespace kfunc_detail

// Where kfunc calls are tried, cheapest-to-succeed first: syscall, tracing (tp_btf), sched_cls, xdp,
// struct_ops, then every other program type in the kernel's enum order. A type whose own probe says
// unsupported is skipped. Attach-type variants that kfunc filters check are separate sites.
inline std::vector<call_site> kfunc_call_sites(const context& ctx,
                                               const std::function<bool(std::string_view)>& type_usable) {
  std::vector<std::string> order = {"syscall", "tracing", "sched_cls", "xdp", "struct_ops"};
  for (const auto& e : ctx.enums().prog_types)
    if (std::find(order.begin(), order.end(), e.name) == order.end()) order.push_back(e.name);
  std::vector<call_site> out;
  // A set-up holding objects becomes a recipe: the objects go now, and come back per session.
  auto setup_of = [&ctx](const std::string& name, std::uint32_t type, call_site& s) {
    s.setup = setup_for(ctx, name, type);
    if (s.setup.keep.empty()) return;
    s.make = [&ctx, name, type] { return setup_for(ctx, name, type); };
    s.setup = load_setup{};
    s.setup.args.type = type;
  };
  for (const auto& name : order) {
    auto value = ctx.prog_type(name);
    if (!value || !type_usable(name)) continue;
    auto type = static_cast<std::uint32_t>(*value);
    if (name == "tracing") {
      if (auto s = kfunc_detail::tp_btf_site(ctx, type)) out.push_back(std::move(*s));
      out.push_back({name, "fentry", setup_for(ctx, name, type), {}, {}});
    } else if (name == "struct_ops") {
      for (auto& s : kfunc_detail::struct_ops_sites(ctx, type)) out.push_back(std::move(s));
    } else {
      call_site plain{name, "", {}, {}, {}};
      setup_of(name, type, plain);
      out.push_back(std::move(plain));
      // kfunc filters that look at the attach type: sun_path for unix sockaddr hooks (6.7),
      // session cookies for kprobe sessions (6.10).
      auto variant = [&](const char* attach) {
        if (auto a = ctx.attach_type(attach)) {
          call_site s{name, attach, setup_for(ctx, name, type), {}, {}};
          s.setup.args.expected_attach_type = static_cast<std::uint32_t>(*a);
          out.push_back(std::move(s));
        }
      };
      if (name == "cgroup_sock_addr") variant("cgroup_unix_connect");
      if (name == "kprobe") variant("trace_kprobe_session");
    }
  }
  return out;
}

// One call probe: the verdict for `call` from `site`.
inline verdict probe_kfunc_call(const context& ctx, const kfunc_call& call, const call_site& site) {
  if (!call.gap.empty()) return verdict::unknown(call.gap);
  if (site.blocked) return *site.blocked;
  sys::prog_load_args args = site.setup.args;
  const auto prog = insn::assemble(insn::call_kfunc(static_cast<std::int32_t>(call.btf_id), call.fd_index),
                                   insn::mov64_imm(insn::r0, 0), insn::exit());
  args.insns = prog;
  args.fd_array = call.fd_array;
  args.name = "bpfpx_kfunc";
  auto fd = sys::prog_load(args);
  if (!fd && fd.error().log.find(kfunc_detail::dev_bound_line) != std::string::npos) {
    if (site.prog_type == "xdp")
      return verdict::yes("XDP metadata kfunc: callable from device-bound XDP programs",
                          std::string(kfunc_detail::dev_bound_line));
    return verdict::no(std::string(kfunc_detail::not_allowed) + " (XDP metadata kfunc: device-bound XDP only)",
                       fd.error().code, std::string(kfunc_detail::dev_bound_line));
  }
  verdict v = classify::from_result(fd, ctx.rules({.must_reach = "#" + std::to_string(call.btf_id)}), "loaded");
  if (!site.setup.gap.empty() && !v.supported()) v.reason += " (set-up incomplete: " + site.setup.gap + ")";
  return v;
}

// A program type's verdict over its sites: allowed when any variant may call it.
inline verdict kfunc_type_verdict(const context& ctx, const kfunc_call& call, std::span<const call_site* const> sites) {
  std::optional<verdict> unknown, refused;
  for (const call_site* s : sites) {
    verdict v = probe_kfunc_call(ctx, call, *s);
    if (v.supported()) {
      if (!s->variant.empty()) v.reason = s->variant + (v.reason.empty() ? "" : ": " + v.reason);
      if (v.evidence.empty()) v.evidence = s->label() + " program calling it loaded";
      return v;
    }
    if (v.state == status::unknown && !unknown) unknown = v;
    if (v.state == status::unsupported && !refused) refused = v;
  }
  if (unknown) return *unknown;
  if (refused) return *refused;
  return verdict::unknown("no program of this type could be set up");
}

// The one-verdict answer for a kfunc: the first site that may call it decides. `tagged` kfuncs are
// registered kfuncs by the kernel's own BTF, so they stay supported when no probed site may call them.
inline verdict cheap_kfunc_verdict(const context& ctx, const kfunc_call& call, bool tagged,
                                   std::span<const call_site* const> sites, std::string* decided_by = nullptr) {
  std::vector<std::pair<std::string, std::string>> unknown;  // site, reason
  std::optional<verdict> refused;
  for (const call_site* s : sites) {
    verdict v = probe_kfunc_call(ctx, call, *s);
    if (v.supported()) {
      if (decided_by) *decided_by = s->label();
      v.reason = "callable from " + s->label() + (v.reason.empty() ? "" : ": " + v.reason);
      if (v.evidence.empty()) v.evidence = s->label() + " program calling it loaded";
      return v;
    }
    if (v.state == status::unsupported && !v.reason.starts_with(kfunc_detail::not_allowed)) return v;  // not per type
    if (v.state == status::unknown)
      unknown.emplace_back(s->label(), v.reason);
    else if (!refused)
      refused = v;
  }
  // Every site refused before the verifier ran (EPERM without privileges): no call was tried at
  // all, so no program type was asked. The tag proves the kfunc exists, not that anything may call it.
  if (!sites.empty() && unknown.size() == sites.size() &&
      std::all_of(sites.begin(), sites.end(), [](const call_site* s) { return s->blocked.has_value(); }))
    return verdict::unknown(
        "nothing could be tried: every program load was refused before verification (" + unknown.front().second + ")",
        sites.front()->blocked->err, tagged ? "decl_tag bpf_kfunc" : std::string{});
  std::string tried = std::to_string(sites.size()) + " program types/attach variants tried";
  // "tracing (fentry), ext, lsm (not permitted (EPERM): ...)": the sites, then the first reason.
  std::string unsure;
  for (std::size_t i = 0; i < unknown.size(); ++i) unsure += (i ? ", " : "") + unknown[i].first;
  if (!unknown.empty()) unsure += " (" + unknown.front().second + ")";
  if (tagged) {
    std::string reason = "tagged bpf_kfunc in kernel BTF, but no probed program type may call it (" + tried + ")";
    if (!unsure.empty()) reason += "; could not tell for " + unsure;
    return verdict::yes(std::move(reason), "decl_tag bpf_kfunc");
  }
  if (!unknown.empty())
    return verdict::unknown("no probed program type may call it, and some could not be tested: " + unsure);
  if (refused) {
    refused->reason = "no probed program type may call it (" + tried + ")";
    return *refused;
  }
  return verdict::unknown("no program type could be set up for a kfunc call");
}

}  // namespace bpfprobe::probe
