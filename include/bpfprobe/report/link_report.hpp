// The `links` and `attach_mechanisms` report sections. Every link variant and mechanism is an
// independent job; most of their time is spent waiting in the kernel (RCU grace periods when
// devices, perf events and uprobes go away), so they run on more threads than there are CPUs.
#pragma once

#include <algorithm>
#include <bpfprobe/catalog/attach_mechanisms.hpp>
#include <bpfprobe/catalog/links.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/report/model.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bpfprobe::probe {

// Kernel waits, not CPU, bound these probes.
inline constexpr unsigned link_probe_threads = 16;

struct link_report {
  section links;       // one fact per bpf_link_type, with attach_types lists
  section mechanisms;  // one fact per mechanism_probes() row
  // Cache keys ("link/<type>", "link/<type>/<variant>", "mechanism/<name>") and their verdicts.
  std::vector<std::pair<std::string, verdict>> verdicts;
};

inline std::string link_key(std::string_view link_type) { return "link/" + std::string(link_type); }
inline std::string link_variant_key(std::string_view link_type, std::string_view label) {
  return "link/" + std::string(link_type) + "/" + std::string(label);
}
inline std::string mechanism_key(std::string_view name) { return "mechanism/" + std::string(name); }

// A link fact: the combined verdict plus which attach types work, do not, or could not be decided.
inline fact link_fact(const std::string& name, const std::vector<link_variant>& variants,
                      const std::vector<verdict>& verdicts) {
  fact f{name, combine_variants(name, variants, verdicts)};
  if (const doc* d = find_doc(link_type_docs, name)) {
    f.first_kernel = d->first_kernel;
    f.commit = d->commit;
  }
  std::vector<std::string> lists[3];
  for (std::size_t i = 0; i < variants.size(); ++i)
    if (!variants[i].attach_type.empty()) lists[static_cast<int>(verdicts[i].state)].push_back(variants[i].attach_type);
  if (!variants.empty()) f.lists.emplace_back("attach_types", std::move(lists[0]));
  if (!lists[1].empty()) f.lists.emplace_back("attach_types_unsupported", std::move(lists[1]));
  if (!lists[2].empty()) f.lists.emplace_back("attach_types_unknown", std::move(lists[2]));
  return f;
}

inline link_report probe_links(const context& ctx, unsigned threads = link_probe_threads) {
  struct job {
    std::size_t link = 0, variant = 0;  // link index into types, variant index; or mechanism row
    bool mechanism = false;
  };
  const auto& types = ctx.enums().link_types;
  const auto& rows = mechanism_probes();
  std::vector<std::vector<link_variant>> variants;
  std::vector<std::vector<verdict>> results;
  std::vector<verdict> mech_results(rows.size());
  std::vector<job> jobs;
  for (std::size_t l = 0; l < types.size(); ++l) {
    variants.push_back(link_variants(ctx, types[l].name));
    results.emplace_back(variants.back().size());
    for (std::size_t v = 0; v < variants.back().size(); ++v) jobs.push_back({l, v, false});
  }
  for (std::size_t m = 0; m < rows.size(); ++m)
    if (rows[m].implied_by.empty()) jobs.push_back({m, 0, true});
  parallel_for(jobs.size(), std::max(1u, threads), [&](std::size_t i) {
    const job& j = jobs[i];
    if (j.mechanism)
      mech_results[j.link] = rows[j.link].run(ctx);
    else
      results[j.link][j.variant] = run_variant(ctx, variants[j.link][j.variant]);
  });

  // Rows implied by another row: taken from it when it is supported, else run now.
  for (std::size_t m = 0; m < rows.size(); ++m) {
    if (rows[m].implied_by.empty()) continue;
    for (std::size_t k = 0; k < rows.size(); ++k)
      if (rows[k].info.name == rows[m].implied_by && mech_results[k].supported())
        mech_results[m] = verdict::yes(
            {}, std::string(rows[k].info.name) + " made a link on such an event: " + mech_results[k].evidence);
    if (!mech_results[m].supported()) mech_results[m] = rows[m].run(ctx);
  }

  link_report out;
  for (std::size_t l = 0; l < types.size(); ++l) {
    out.links.push_back(link_fact(types[l].name, variants[l], results[l]));
    out.verdicts.emplace_back(link_key(types[l].name), out.links.back().v);
    for (std::size_t v = 0; v < variants[l].size(); ++v)
      out.verdicts.emplace_back(link_variant_key(types[l].name, variants[l][v].label), results[l][v]);
  }
  for (std::size_t m = 0; m < rows.size(); ++m) {
    fact f{std::string(rows[m].info.name), mech_results[m], std::string(rows[m].info.first_kernel),
           std::string(rows[m].info.commit)};
    out.verdicts.emplace_back(mechanism_key(f.name), f.v);
    out.mechanisms.push_back(std::move(f));
  }
  return out;
}

}  // namespace bpfprobe::probe
