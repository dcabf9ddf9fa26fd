// Where decide/ gets its facts: the prober's verdicts, including link types, link attach types and
// attach mechanisms (catalog/links.hpp, catalog/attach_mechanisms.hpp: each really attaches and detaches
// a tiny program). The one probe here checks an iterator target with its parameters, which those do
// not cover. Everything conclusive is cached by the prober.
#pragma once

#include <bpfprobe/decide/inputs.hpp>
#include <bpfprobe/insn/insn.hpp>
#include <bpfprobe/probe/context.hpp>
#include <bpfprobe/sys/link.hpp>
#include <string>
#include <vector>

namespace bpfprobe::decide {

namespace own {

// Errors of an attach call that mean "this kernel cannot do it": classify::attach_request, and
// `also_absent`.
inline classify::rules attach_rules(const probe::context& ctx, std::vector<int> also_absent = {}) {
  classify::rules r = ctx.rules(classify::attach_request());
  r.absent_errnos.insert(r.absent_errnos.end(), also_absent.begin(), also_absent.end());
  return r;
}

// A failed step before the attach under test: its errno decides only "unknown" (never absence).
inline verdict setup_failed(const probe::context& ctx, std::string step, const sys::error& e) {
  verdict v = classify::from_error(e, ctx.rules(classify::side_step()));
  if (v.state == status::unsupported) v.state = status::unknown;
  v.reason = step + ": " + v.reason;
  if (v.evidence.empty()) v.evidence = e.describe();
  return v;
}

inline verdict attached(const probe::context& ctx, const sys::error* err, std::string what,
                        std::vector<int> also_absent = {}) {
  if (!err) return verdict::yes(std::move(what));
  verdict v = classify::from_error(*err, attach_rules(ctx, std::move(also_absent)));
  v.reason = what + ": " + v.reason;
  if (v.evidence.empty()) v.evidence = err->describe();
  return v;
}

template <class T>
inline verdict attached(const probe::context& ctx, const sys::result<T>& r, std::string what,
                        std::vector<int> also_absent = {}) {
  return attached(ctx, r ? nullptr : &r.error(), std::move(what), std::move(also_absent));
}

inline sys::result<sys::unique_fd> load(const probe::context& ctx, std::uint32_t type, std::int32_t ret = 0,
                                        std::uint32_t expected_attach_type = 0, std::uint32_t attach_btf_id = 0) {
  auto setup = probe::setup_for(ctx, type == BPF_PROG_TYPE_KPROBE ? "kprobe" : "", type);
  const auto prog = insn::assemble(insn::mov64_imm(insn::r0, ret), insn::exit());
  setup.args.insns = prog;
  setup.args.expected_attach_type = expected_attach_type;
  setup.args.attach_btf_id = attach_btf_id;
  return sys::prog_load(setup.args);
}

// An iterator link (5.8) to `target`, found as the FUNC bpf_iter_<target> in kernel BTF. Targets
// that need a parameter (bpf_map_elem, bpf_sk_storage_map, sockmap) get an array map.
inline verdict iter(const probe::context& ctx, const std::string& target) {
  if (!ctx.kernel_btf()) return verdict::unknown("no kernel BTF readable: " + ctx.btf_error());
  auto func = ctx.kernel_btf()->find_func("bpf_iter_" + target);
  if (!func) return verdict::no("no FUNC bpf_iter_" + target + " in kernel BTF", 0, ctx.kernel_btf()->path());
  auto prog = load(ctx, BPF_PROG_TYPE_TRACING, 0, BPF_TRACE_ITER, *func);
  if (!prog) {
    verdict v = classify::from_error(prog.error(), ctx.rules({.log_proves_existence = false}));
    v.reason = "iterator program load for " + target + ": " + v.reason;
    return v;
  }
  sys::iter_params params;
  sys::unique_fd map;
  bool needs_map = target == "bpf_map_elem" || target == "bpf_sk_storage_map" || target == "sockmap";
  if (needs_map) {
    auto m = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1});
    if (!m) return setup_failed(ctx, "parameter map", m.error());
    map = std::move(m).value();
    params.map_fd = map.get();
  }
  auto link = sys::iter_link_create(prog.value().get(), params);
  return attached(ctx, link, "iterator link to " + target + (needs_map ? " with a map parameter" : ""));
}

// The probe behind "attach:<name>".
inline verdict run(const probe::context& ctx, std::string_view name) {
  if (name.starts_with("iter_")) return iter(ctx, std::string(name.substr(5)));
  return verdict::unknown("no such attach probe: " + std::string(name));
}

}  // namespace own

}  // namespace bpfprobe::decide
