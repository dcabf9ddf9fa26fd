// Kfunc facts: the lazy kfunc("name") and kfunc("name", "type") queries, their cache keys and the
// kfuncs section of the full report. How one call is probed: catalog/kfunc_sites.hpp.
#pragma once

#include <bpfprobe/btf/kfuncs.hpp>
#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/kfunc_session.hpp>
#include <bpfprobe/catalog/kfunc_sites.hpp>
#include <bpfprobe/probe/fact.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>
#include <variant>
#include <vector>

namespace bpfprobe::probe {

// Documentation for a kfunc from the facts tables (first kernel, commit), when recorded.
inline const doc* kfunc_doc(std::string_view name) {
  std::string key = "kfunc:" + std::string(name);
  if (const doc* d = find_doc(dynptr_iter_docs, key)) return d;
  return find_doc(feature_docs, "kfunc_" + std::string(name));
}

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
