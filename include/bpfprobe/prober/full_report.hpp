// The prober's full report: every section, taken from the stored report where it was kept,
// probed otherwise, with the link probes and the kfunc-derived sections run beside the helper matrix.
#pragma once

#include <algorithm>
#include <bpfprobe/probe/persist.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <future>

namespace bpfprobe {

inline report prober::full_report() {
  load_stored_report();
  std::shared_ptr<const probe::persist::stored_report> snapshot;
  {
    std::lock_guard lock(mu_);
    if (from_disk_report_ && !tainted()) snapshot = stored_report_;
  }
  const probe::persist::stored_report* old = snapshot.get();
  auto stored = [&](std::string_view name) { return old ? old->find(name) : nullptr; };
  probe::persist::stored_report next;
  auto keep = [&](std::string name, const section& facts) {
    auto& s = next.sections.emplace_back();
    s.name = std::move(name);
    s.facts = facts;
    s.missing.resize(facts.size());
    for (std::size_t i = 0; i < facts.size(); ++i) s.missing[i] = !keeps(facts[i].v);
  };

  // Link probes mostly wait on the kernel: they run beside everything else.
  bool links_stored = stored("more:links") && stored("more:attach_mechanisms");
  std::future<probe::link_report> links;
  if (!links_stored)
    links = std::async(std::launch::async, [this] {
      return probe::probe_links(ctx_, ctx_.opts().threads ? ctx_.opts().threads : probe::link_probe_threads);
    });
  report r;
  r.kernel = probe::read_kernel_info(ctx_, old ? &old->btf_path : nullptr);
  r.config_values = probe::read_kernel_config(r.kernel.release);
  r.kernel.config_source = r.config_values.source;
  r.names_source = old ? old->names_source : ctx_.enums().source;
  r.names_from_btf = old ? old->names_from_btf : ctx_.enums().from_btf;
  next.names_source = r.names_source;
  next.names_from_btf = r.names_from_btf;
  next.btf_path = r.kernel.btf;

  if (auto* s = stored("program_types"))
    r.program_types =
        restore(*s, [&](const std::string& n) { return documented(n, prog_type(n), probe::prog_type_docs); });
  else
    for (const auto& e : ctx_.enums().prog_types)
      r.program_types.push_back(documented(e.name, prog_type(e.name), probe::prog_type_docs));
  if (auto* s = stored("map_types"))
    r.map_types = restore(*s, [&](const std::string& n) { return documented(n, map_type(n), probe::map_type_docs); });
  else
    for (const auto& e : ctx_.enums().map_types)
      r.map_types.push_back(documented(e.name, map_type(e.name), probe::map_type_docs));
  auto misc_fact = [&](const std::string& n) {
    for (const auto& row : probe::misc_probes())
      if (row.info.name == n) return fact{n, misc(n), std::string(row.info.first_kernel), std::string(row.info.commit)};
    return fact{n, misc(n)};
  };
  if (auto* s = stored("misc"))
    r.misc = restore(*s, misc_fact);
  else
    for (const auto& row : probe::misc_probes()) r.misc.push_back(misc_fact(std::string(row.info.name)));
  keep("program_types", r.program_types);
  keep("map_types", r.map_types);
  keep("misc", r.misc);
  for (auto& [name, v] : probe::system_facts(r.kernel)) r.misc.push_back({name, std::move(v)});
  for (const char* opt : probe::config_options) {
    fact f{opt, probe::config_verdict(r.config_values, opt)};
    if (auto it = r.config_values.values.find(opt); it != r.config_values.values.end())
      f.attrs.emplace_back("value", it->second);
    r.config.push_back(std::move(f));
  }

  // kfuncs, dynptr and iterators are stored whole or not at all (a fact of them needs the section).
  auto whole = [&](std::string_view name) {
    auto* s = stored(name);
    return s && std::none_of(s->missing.begin(), s->missing.end(), [](char m) { return m != 0; }) ? s : nullptr;
  };
  // They run beside the helper matrix and the links, so both CPUs stay busy to the end.
  auto kfunc_work = [&, this] {
    kfunc_part k;
    if (auto* s = whole("more:kfuncs")) {
      k.kfuncs = s->facts;
      k.names = old->kfunc_names;
      k.list_source = old->kfunc_list_source;
      k.undecided = old->kfuncs_undecided;
      k.undecided_reason = old->kfuncs_undecided_reason;
    } else {
      auto kf = probe::kfunc_section(ctx_, kfunc_state(), ctx_.opts().kfunc_prog_types, ctx_.opts().threads);
      remember_all(kf.verdicts);
      k.list_source = kfunc_state().catalog.from_tags ? "bpf_kfunc decl tags" : "load probes";
      k.undecided = kf.undecided;
      k.undecided_reason = std::move(kf.undecided_reason);
      k.kfuncs = std::move(kf.facts);
      k.names = std::move(kf.names);
    }
    auto kfunc_query = [this](std::string_view n) { return kfunc(n); };
    if (auto* s = whole("more:dynptr"))
      k.dynptr = s->facts;
    else
      k.dynptr = probe::dynptr_section(ctx_, k.names, kfunc_query, ctx_.opts().threads);
    // Open-coded families from the whole catalog (with tags, the listed kfuncs; without, every
    // candidate: bpf_iter_<x>_new/_next/_destroy is their signature), so a family whose kfuncs
    // could not be decided is reported unknown instead of missing.
    if (auto* s = whole("more:iterators"))
      k.iterators = s->facts;
    else
      k.iterators = probe::iterator_section(ctx_, kfunc_state().catalog_names(), kfunc_query, ctx_.opts().threads);
    return k;
  };
  bool kfuncs_stored = whole("more:kfuncs") && whole("more:dynptr") && whole("more:iterators");
  std::future<kfunc_part> kfuncs;
  if (!kfuncs_stored) kfuncs = std::async(std::launch::async, kfunc_work);

  bool helpers_stored = old != nullptr;
  for (const auto& t : r.program_types) helpers_stored = helpers_stored && stored("helper:" + t.name);
  if (helpers_stored) {
    for (const auto& t : r.program_types)
      r.helpers.emplace_back(t.name, restore(*stored("helper:" + t.name), [&](const std::string& n) {
                               return documented(n, t.v.supported() ? helper(t.name, n) : gated(t.v),
                                                 probe::helper_docs);
                             }));
  } else {
    r.helpers = helper_matrix(r.program_types);
  }
  for (const auto& [type, s] : r.helpers) keep("helper:" + type, s);

  section link_facts, mechanism_facts;
  if (links_stored) {
    link_facts = restore(*stored("more:links"), [&](const std::string& n) { return link_fact(n); });
    const auto& mechanisms = *stored("more:attach_mechanisms");
    mechanism_facts = restore(mechanisms, [&](const std::string& n) { return mechanism_fact(n, mechanisms.facts); });
  } else {
    auto lr = links.get();
    remember_all(lr.verdicts);
    link_facts = std::move(lr.links);
    mechanism_facts = std::move(lr.mechanisms);
  }

  kfunc_part k = kfuncs_stored ? kfunc_work() : kfuncs.get();
  r.kfunc_list_source = k.list_source;
  r.kfuncs_undecided = k.undecided;
  r.kfuncs_undecided_reason = k.undecided_reason;
  next.kfunc_list_source = r.kfunc_list_source;
  next.kfuncs_undecided = r.kfuncs_undecided;
  next.kfuncs_undecided_reason = r.kfuncs_undecided_reason;
  next.kfunc_names = std::move(k.names);
  keep("more:kfuncs", k.kfuncs);
  // Candidates no probe could decide: the list itself is not conclusive, so it is probed again.
  if (r.kfuncs_undecided) next.sections.back().missing.assign(k.kfuncs.size(), 1);
  keep("more:links", link_facts);
  keep("more:attach_mechanisms", mechanism_facts);
  keep("more:dynptr", k.dynptr);
  keep("more:iterators", k.iterators);
  r.more.emplace_back("kfuncs", std::move(k.kfuncs));
  r.more.emplace_back("links", std::move(link_facts));
  r.more.emplace_back("attach_mechanisms", std::move(mechanism_facts));
  r.more.emplace_back("dynptr", std::move(k.dynptr));
  r.more.emplace_back("iterators", std::move(k.iterators));

  if (tainted()) poisoned_ = true;
  std::lock_guard lock(mu_);
  if (!old || !same_report(*old, next)) dirty_ = true;
  stored_report_ = std::make_shared<const probe::persist::stored_report>(std::move(next));
  return r;
}

template <class F>
section prober::restore(const probe::persist::stored_section& s, F&& fresh) {
  section out = s.facts;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (s.missing[i]) out[i] = fresh(out[i].name);
  return out;
}

inline bool prober::same_report(const probe::persist::stored_report& a, const probe::persist::stored_report& b) {
  if (a.sections.size() != b.sections.size()) return false;
  for (std::size_t i = 0; i < a.sections.size(); ++i)
    if (a.sections[i].name != b.sections[i].name || a.sections[i].missing != b.sections[i].missing) return false;
  return true;
}

inline fact prober::link_fact(const std::string& link_type) {
  auto variants = probe::link_variants(ctx_, link_type);
  std::vector<verdict> vs;
  for (const auto& v : variants)
    vs.push_back(cached(probe::link_variant_key(link_type, v.label), [&] { return probe::run_variant(ctx_, v); }));
  fact f = probe::link_fact(link_type, variants, vs);
  if (keeps(f.v)) remember(probe::link_key(link_type), [&] { return f.v; });
  return f;
}

inline fact prober::mechanism_fact(const std::string& name, const section& so_far) {
  for (const auto& row : probe::mechanism_probes()) {
    if (row.info.name != name) continue;
    fact f{name, {}, std::string(row.info.first_kernel), std::string(row.info.commit)};
    if (!row.implied_by.empty())
      if (const fact* by = find_fact(so_far, row.implied_by); by && by->v.supported()) {
        f.v = verdict::yes({}, std::string(row.implied_by) + " made a link on such an event: " + by->v.evidence);
        return f;
      }
    f.v = cached(probe::mechanism_key(name), [&] { return row.run(ctx_); });
    return f;
  }
  return fact{name, verdict::unknown("no such attach mechanism probe: " + name)};
}

inline fact prober::documented(const std::string& name, verdict v, std::span<const probe::doc> docs) {
  fact f{name, std::move(v)};
  if (const auto* d = probe::find_doc(docs, name)) {
    f.first_kernel = d->first_kernel;
    f.commit = d->commit;
  }
  return f;
}

}  // namespace bpfprobe
