// The kernel facts compat tiers depend on, as verdicts for one program type: helpers, kfuncs, map
// types and struct members of the kernel's BTF. Each verdict's reason names the fact it is about.
#pragma once

#include <bpf/btf.h>

#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <concepts>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace bpfprobe::compat {

// supported when every part is; else the first unsupported part, else the first unknown one.
inline verdict all_of(std::initializer_list<verdict> parts) {
  const verdict* unknown = nullptr;
  std::string reasons;
  for (const auto& v : parts) {
    if (v.state == status::unsupported) return v;
    if (v.state == status::unknown && !unknown) unknown = &v;
    if (v.supported() && !v.reason.empty()) reasons += (reasons.empty() ? "" : "; ") + v.reason;
  }
  if (unknown) return *unknown;
  return verdict::yes(std::move(reasons));
}

// "what: reason", so a verdict says which requirement it is about.
inline verdict about(std::string_view what, verdict v) {
  v.reason = std::string(what) + (v.reason.empty() ? "" : ": " + v.reason);
  return v;
}

// A kfunc call from one program type, probed locally: "call <kfunc>; r0 = 0; exit". The verifier
// checks the program type's kfunc sets before the arguments ("calling kernel function X is not
// allowed"), so a rejection after the call line proves the type may call it.
inline verdict probe_kfunc_for_type(const probe::context& ctx, std::string_view kfunc, std::string_view prog_type) {
  const auto* k = ctx.kernel_btf();
  if (!k) return verdict::unknown("no kernel BTF to look the kfunc up in");
  auto id = k->find_func(kfunc);
  if (!id) return verdict::no("not a function in kernel BTF", 0, k->path());
  auto type = ctx.prog_type(prog_type);
  if (!type) return verdict::no("kernel does not define program type " + std::string(prog_type));
  auto setup = probe::setup_for(ctx, prog_type, static_cast<std::uint32_t>(*type));
  sys::prog_load_args args = setup.args;
  const auto prog =
      insn::assemble(insn::call_kfunc(static_cast<std::int32_t>(*id)), insn::mov64_imm(insn::r0, 0), insn::exit());
  args.insns = prog;
  auto fd = sys::prog_load(args);
  return classify::from_result(fd, ctx.rules({.must_reach = "#" + std::to_string(*id)}), "loaded");
}

class kernel_checks {
 public:
  explicit kernel_checks(prober& p) : p_(p) {}

  [[nodiscard]] prober& probe() noexcept { return p_; }
  [[nodiscard]] const probe::context& context() const noexcept { return p_.context(); }

  verdict helper(std::string_view prog_type, std::string_view name) {
    return about("helper " + std::string(name) + " in " + std::string(prog_type), p_.helper(prog_type, name));
  }

  verdict map_type(std::string_view name) { return about("map type " + std::string(name), p_.map_type(name)); }

  // May a program of this type call the kfunc? prober::kfunc answers once it has one; until then a
  // local probe does (conclusive answers are remembered for this object's lifetime).
  verdict kfunc(std::string_view prog_type, std::string_view name) {
    return about("kfunc " + std::string(name) + " in " + std::string(prog_type), kfunc_verdict(p_, prog_type, name));
  }

  // `struct <type>` has `member` in the kernel's BTF (of `size` bytes, when given).
  // BTF answers are remembered by the prober (and its persistent cache) like probed ones.
  verdict member(std::string_view type, std::string_view member, std::uint32_t size = 0) {
    std::string what = "struct " + std::string(type) + "." + std::string(member);
    return p_.remember("btf_member/" + what.substr(7) + "/" + std::to_string(size),
                       [&] { return member_from_btf(what, type, member, size); });
  }

  verdict type(std::string_view name) {
    return p_.remember("btf_struct/" + std::string(name), [&] { return type_from_btf(name); });
  }

 private:
  verdict member_from_btf(const std::string& what, std::string_view type, std::string_view member, std::uint32_t size) {
    const auto* k = context().kernel_btf();
    if (!k) return verdict::unknown(what + ": no kernel BTF (CO-RE needs it)");
    auto id = k->find_struct(type);
    if (!id) return verdict::no(what + ": struct not in kernel BTF", 0, k->path());
    auto idx = k->member_index(*id, member);
    if (!idx) return verdict::no(what + ": no such member in kernel BTF", 0, k->path());
    if (size) {
      const btf_type* t = btf__type_by_id(k->get(), *id);
      auto actual = k->type_size(btf_members(t)[*idx].type);
      if (!actual || *actual != size)
        return verdict::no(what + ": " + (actual ? std::to_string(*actual) : std::string("unsized")) +
                               " bytes, the layout bpfprobe mirrors has " + std::to_string(size),
                           0, k->path());
    }
    return verdict::yes();
  }

  verdict type_from_btf(std::string_view name) {
    const auto* k = context().kernel_btf();
    std::string what = "struct " + std::string(name);
    if (!k) return verdict::unknown(what + ": no kernel BTF (CO-RE needs it)");
    if (!k->find_struct(name)) return verdict::no(what + ": not in kernel BTF", 0, k->path());
    return verdict::yes();
  }

  template <class P>
  verdict kfunc_verdict(P& p, std::string_view prog_type, std::string_view name) {
    if constexpr (requires {
                    { p.kfunc(name, prog_type) } -> std::convertible_to<verdict>;
                  }) {
      return p.kfunc(name, prog_type);
    } else {
      std::string key = std::string(prog_type) + "/" + std::string(name);
      if (auto it = kfuncs_.find(key); it != kfuncs_.end()) return it->second;
      verdict v = p.prog_type(prog_type);
      if (v.supported())
        v = probe_kfunc_for_type(p.context(), name, prog_type);
      else
        v.reason = "program type " + std::string(to_string(v.state)) + (v.reason.empty() ? "" : ": " + v.reason);
      if (v.conclusive()) kfuncs_.emplace(key, v);
      return v;
    }
  }

  prober& p_;
  std::map<std::string, verdict, std::less<>> kfuncs_;
};

}  // namespace bpfprobe::compat
