// Kfunc probes: "call <kfunc>; r0 = 0; exit" (BPF_PSEUDO_KFUNC_CALL by BTF id) loaded as a program
// type. The verifier resolves the BTF id and checks the program type's kfunc sets before it looks at
// the arguments, so "calling kernel function X is not allowed" means not for this type and any later
// rejection (an argument check, a leaked reference, "must be sleepable") means the type may call it.
// Kfunc calls came in 5.13 (e6ac2450d6de); module kfuncs through fd_array in 5.16 (2357672c54c3).
#pragma once

#include <bpfprobe/btf/kfuncs.hpp>
#include <bpfprobe/probe/facts.hpp>
#include <bpfprobe/probe/load_setup.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/report.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
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

// What kfunc probes share, built once per prober: the catalog and the call sites. It holds no
// kernel object: a session (below) opens what the probes need and closes it when it goes.
struct kfunc_state {
  btf::kfunc_catalog catalog;
  std::optional<btf::kernel_btf> names_file;  // when names come from a file rather than the kernel
  std::vector<call_site> sites;               // fd-free recipes
  std::string error;                          // why nothing could be enumerated

  [[nodiscard]] std::vector<std::string> catalog_names() const {
    std::vector<std::string> out;
    for (const auto& f : catalog.funcs) out.push_back(f.name);
    return out;
  }
  [[nodiscard]] std::vector<std::string> modules() const {
    std::vector<std::string> out;
    for (const auto& f : catalog.funcs)
      if (f.module != "vmlinux" && std::find(out.begin(), out.end(), f.module) == out.end()) out.push_back(f.module);
    return out;
  }
};

// The objects a batch of kfunc probes needs: module BTF fds (named through fd_array) and the
// set-ups that hold objects. All closed when the session goes.
class kfunc_session {
 public:
  kfunc_session(const kfunc_state& st, const std::vector<std::string>& modules) {
    for (const auto& s : st.sites) {
      if (!s.make || s.blocked) {  // a blocked site makes no call: its description is enough
        sites_.push_back(&s);
        continue;
      }
      owned_.push_back(std::make_unique<call_site>(call_site{s.prog_type, s.variant, s.make(), s.blocked, {}}));
      sites_.push_back(owned_.back().get());
    }
    if (modules.empty()) return;
    if (auto fds = btf::kernel_btf_objects(modules)) {
      module_fds_ = std::move(fds).value();
      for (const auto& [m, fd] : module_fds_) fd_arrays_[m] = {0, fd.get()};
    } else {
      module_error_ = fds.error().describe();
    }
  }
  kfunc_session(const kfunc_session&) = delete;
  kfunc_session& operator=(const kfunc_session&) = delete;

  [[nodiscard]] std::span<const call_site* const> sites() const { return sites_; }
  [[nodiscard]] std::vector<const call_site*> sites_of(std::string_view prog_type) const {
    std::vector<const call_site*> out;
    for (const call_site* s : sites_)
      if (s->prog_type == prog_type) out.push_back(s);
    return out;
  }
  [[nodiscard]] kfunc_call call_of(const btf::kfunc_info& k) const {
    kfunc_call c{k.btf_id, nullptr, 0, {}};
    if (k.module == "vmlinux") return c;
    auto it = fd_arrays_.find(k.module);
    if (it == fd_arrays_.end()) {
      c.gap = "kernel BTF object of module " + k.module + " not found" +
              (module_error_.empty() ? "" : " (" + module_error_ + ")");
      return c;
    }
    c.fd_array = it->second.data();
    c.fd_index = 1;
    return c;
  }

 private:
  std::vector<const call_site*> sites_;
  std::vector<std::unique_ptr<call_site>> owned_;
  std::map<std::string, sys::unique_fd> module_fds_;
  std::map<std::string, std::array<int, 2>> fd_arrays_;  // {unused, module BTF fd}, stable addresses
  std::string module_error_;
};

// `names_path`: where kfunc names (and bpf_kfunc tags) come from; the running kernel's vmlinux by
// default. Ids for the calls are always the running kernel's, looked up by name.
inline std::unique_ptr<kfunc_state> make_kfunc_state(const context& ctx,
                                                     const std::function<bool(std::string_view)>& type_usable,
                                                     const std::filesystem::path& names_path) {
  auto st = std::make_unique<kfunc_state>();
  const btf::kernel_btf* kernel = ctx.kernel_btf();
  if (!kernel) {
    st->error = "no kernel BTF: kfuncs cannot be enumerated or called";
    return st;
  }
  const btf::kernel_btf* names = kernel;
  if (names_path != btf::vmlinux_path && names_path != kernel->path()) {
    auto f = btf::kernel_btf::open(names_path);
    if (!f) {
      st->error = f.error().describe();
      return st;
    }
    st->names_file.emplace(std::move(f).value());
    names = &*st->names_file;
  }
  st->catalog = btf::enumerate_kfuncs(*names, *kernel);
  st->sites = kfunc_call_sites(ctx, type_usable);
  kfunc_session session(*st, {});
  static constexpr auto ret0 = insn::return_zero();
  for (std::size_t i = 0; i < st->sites.size(); ++i) {
    sys::prog_load_args args = session.sites()[i]->setup.args;
    args.insns = ret0;
    auto fd = sys::prog_load(args);
    if (!fd && fd.error().log.empty()) {
      verdict v = classify::from_error(fd.error(), load_rules(ctx, st->sites[i].prog_type));
      if (v.state == status::unknown) st->sites[i].blocked = std::move(v);
    }
  }
  return st;
}

// Documentation for a kfunc from the facts tables (first kernel, commit), when recorded.
inline const doc* kfunc_doc(std::string_view name) {
  std::string key = "kfunc:" + std::string(name);
  if (const doc* d = find_doc(dynptr_iter_docs, key)) return d;
  return find_doc(feature_docs, "kfunc_" + std::string(name));
}

}  // namespace bpfprobe::probe

namespace bpfprobe::probe {

// The kfunc a lazy query names: from the catalog, or (no tags) any FUNC of that name in vmlinux BTF.
// Otherwise the verdict that it is absent, with the other spelling when the kernel has that.
inline std::variant<btf::kfunc_info, verdict> resolve_kfunc(const context& ctx, const kfunc_state& st,
                                                            std::string_view name) {
  if (!st.error.empty()) return verdict::unknown(st.error);
  if (const auto* k = st.catalog.find(name)) return *k;
  std::string n(name);
  std::string other = n.ends_with("_impl") ? n.substr(0, n.size() - 5) : n + "_impl";
  std::string hint = st.catalog.find(other) ? " (the kernel has " + other + ")" : "";
  auto id = ctx.kernel_btf()->find_func(name);
  if (!id) return verdict::no("no FUNC " + n + " in kernel BTF" + hint, 0, st.catalog.source);
  if (st.catalog.from_tags)
    return verdict::no("FUNC " + n + " is not tagged bpf_kfunc in kernel BTF" + hint, 0, st.catalog.source);
  return btf::kfunc_info{n, "vmlinux", *id, btf::prototype(ctx.kernel_btf()->get(), *id), false, {}};
}

// kfunc("name"): the kernel has it, and some program type may call it.
inline verdict kfunc_verdict(const context& ctx, const kfunc_state& st, std::string_view name) {
  auto k = resolve_kfunc(ctx, st, name);
  if (auto* v = std::get_if<verdict>(&k)) return *v;
  const auto& info = std::get<btf::kfunc_info>(k);
  kfunc_session session(st, info.module == "vmlinux" ? std::vector<std::string>{} : std::vector{info.module});
  return cheap_kfunc_verdict(ctx, session.call_of(info), info.tagged, session.sites());
}

// kfunc("name", "xdp"): programs of this type may call it (any of the type's attach variants).
inline verdict kfunc_type(const context& ctx, const kfunc_state& st, std::string_view name, std::string_view type) {
  auto k = resolve_kfunc(ctx, st, name);
  if (auto* v = std::get_if<verdict>(&k)) return *v;
  const auto& info = std::get<btf::kfunc_info>(k);
  kfunc_session session(st, info.module == "vmlinux" ? std::vector<std::string>{} : std::vector{info.module});
  auto sites = session.sites_of(type);
  if (sites.empty()) return verdict::unknown("no kfunc call set-up for program type " + std::string(type));
  return kfunc_type_verdict(ctx, session.call_of(info), sites);
}

inline std::string kfunc_key(std::string_view name) { return "kfunc/" + std::string(name); }
inline std::string kfunc_key(std::string_view name, std::string_view type) {
  return "kfunc/" + std::string(name) + "/" + std::string(type);
}

// The kfuncs section, and the verdicts the prober may cache.
struct kfunc_section_result {
  section facts;
  std::vector<std::pair<std::string, verdict>> verdicts;  // cache key -> verdict
  std::vector<std::string> names;                         // kfuncs listed (for dynptr and iterators)
  // Without tags: candidates left out because no load probe could decide them (e.g. not permitted),
  // and the reason of the first one. They may or may not be kfuncs.
  std::size_t undecided = 0;
  std::string undecided_reason;
};

// Default: one verdict per kfunc, from the first site that may call it. Without tags, candidates are
// tried only from the first program types (syscall, tracing, sched_cls, xdp, struct_ops): trying
// every type for ~2000 FUNCs costs ~0.5 s; --kfuncs=full (`full`) tries every type for every one.
// `full` also computes, per kfunc, every program type that may call it.
inline kfunc_section_result kfunc_section(const context& ctx, const kfunc_state& st, bool full, unsigned threads) {
  kfunc_section_result out;
  if (!st.error.empty()) return out;
  const auto& funcs = st.catalog.funcs;
  kfunc_session session(st, st.modules());
  auto all_sites = session.sites();
  auto primary_type = [](const std::string& t) {
    return t == "syscall" || t == "tracing" || t == "sched_cls" || t == "xdp" || t == "struct_ops";
  };
  std::size_t primary = 0;
  while (primary < all_sites.size() && primary_type(all_sites[primary]->prog_type)) ++primary;
  auto cheap_sites = !st.catalog.from_tags && !full ? all_sites.first(primary) : all_sites;

  std::vector<verdict> verdicts(funcs.size());
  std::vector<std::string> decided(funcs.size());
  parallel_for(funcs.size(), threads, [&](std::size_t i) {
    verdicts[i] = cheap_kfunc_verdict(ctx, session.call_of(funcs[i]), funcs[i].tagged, cheap_sites, &decided[i]);
  });
  std::vector<std::size_t> listed;
  for (std::size_t i = 0; i < funcs.size(); ++i) {
    // Without tags only what a probe proved is a kfunc is listed, and what the facts table knows as
    // a kfunc when the probes could not decide (not permitted): unknown, never silently missing.
    if (!funcs[i].tagged && !verdicts[i].supported() &&
        !(verdicts[i].state == status::unknown && kfunc_doc(funcs[i].name))) {
      if (verdicts[i].state == status::unknown && out.undecided++ == 0) out.undecided_reason = verdicts[i].reason;
      continue;
    }
    listed.push_back(i);
    if (verdicts[i].conclusive() &&
        (funcs[i].tagged || cheap_sites.size() == all_sites.size() || verdicts[i].supported()))
      out.verdicts.emplace_back(kfunc_key(funcs[i].name), verdicts[i]);
  }

  // Program types per kfunc: every (kfunc, type) pair on all CPUs.
  std::vector<std::string> types;
  for (const call_site* s : all_sites)
    if (std::find(types.begin(), types.end(), s->prog_type) == types.end()) types.push_back(s->prog_type);
  std::vector<verdict> matrix;
  if (full) {
    std::vector<std::vector<const call_site*>> by_type;
    for (const auto& t : types) by_type.push_back(session.sites_of(t));
    matrix.resize(listed.size() * types.size());
    parallel_for(matrix.size(), threads, [&](std::size_t j) {
      const auto& f = funcs[listed[j / types.size()]];
      matrix[j] = kfunc_type_verdict(ctx, session.call_of(f), by_type[j % types.size()]);
    });
  }

  for (std::size_t li = 0; li < listed.size(); ++li) {
    const auto& f = funcs[listed[li]];
    fact fa{f.name, verdicts[listed[li]]};
    if (const doc* d = kfunc_doc(f.name)) {
      fa.first_kernel = d->first_kernel;
      fa.commit = d->commit;
    }
    fa.attrs.emplace_back("module", f.module);
    fa.attrs.emplace_back("btf_id", std::to_string(f.btf_id));
    fa.attrs.emplace_back("prototype", f.prototype);
    fa.attrs.emplace_back("source", f.tagged ? "bpf_kfunc decl tag"
                                    : verdicts[listed[li]].state == status::unknown
                                        ? "facts table (load probe undecided)"
                                        : "load probe");
    if (!decided[listed[li]].empty()) fa.attrs.emplace_back("probed_as", decided[listed[li]]);
    if (!f.aliases.empty()) fa.lists.emplace_back("aliases", f.aliases);
    if (full) {
      std::vector<std::string> yes, unsure;
      for (std::size_t t = 0; t < types.size(); ++t) {
        const verdict& v = matrix[li * types.size() + t];
        if (v.supported())
          yes.push_back(types[t]);
        else if (v.state == status::unknown)
          unsure.push_back(types[t]);
        if (v.conclusive()) out.verdicts.emplace_back(kfunc_key(f.name, types[t]), v);
      }
      fa.lists.emplace_back("prog_types", std::move(yes));
      if (!unsure.empty()) fa.lists.emplace_back("prog_types_unknown", std::move(unsure));
    } else {
      fa.attrs.emplace_back("prog_types", "not computed (use --kfuncs=full)");
    }
    out.names.push_back(f.name);
    out.facts.push_back(std::move(fa));
  }
  return out;
}

}  // namespace bpfprobe::probe
