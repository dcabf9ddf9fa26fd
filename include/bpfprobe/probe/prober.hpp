// The prober: lazy, cached queries for single facts, and the full report. Only conclusive verdicts
// are cached; an unknown one is probed again on the next query.
#pragma once

#include <algorithm>
#include <atomic>
#include <bpfprobe/probe/dynptr.hpp>
#include <bpfprobe/probe/helpers.hpp>
#include <bpfprobe/probe/iterators.hpp>
#include <bpfprobe/probe/kfuncs.hpp>
#include <bpfprobe/probe/link_report.hpp>
#include <bpfprobe/probe/map_types.hpp>
#include <bpfprobe/probe/misc.hpp>
#include <bpfprobe/probe/prog_types.hpp>
#include <bpfprobe/probe/report.hpp>
#include <bpfprobe/probe/system.hpp>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace bpfprobe {

class prober {
 public:
  explicit prober(const probe::options& opt = {}) : ctx_(opt) {}

  [[nodiscard]] const probe::context& context() const noexcept { return ctx_; }

  verdict prog_type(std::string_view name) {
    auto value = ctx_.prog_type(name);
    if (!value) return verdict::no("kernel does not define this program type", 0, ctx_.enums().source);
    return cached("prog_type/" + std::string(name),
                  [&] { return probe::probe_prog_type(ctx_, name, static_cast<std::uint32_t>(*value)); });
  }

  verdict map_type(std::string_view name) {
    auto value = btf::kernel_enums::value_of(ctx_.enums().map_types, name);
    if (!value) return verdict::no("kernel does not define this map type", 0, ctx_.enums().source);
    return cached("map_type/" + std::string(name),
                  [&] { return probe::probe_map_type(ctx_, name, static_cast<std::uint32_t>(*value)); });
  }

  // helper("xdp", "bpf_redirect")
  verdict helper(std::string_view prog_type_name, std::string_view helper_name) {
    auto id = btf::kernel_enums::value_of(ctx_.enums().helpers, helper_name);
    if (!id) return verdict::no("kernel does not define this helper", 0, ctx_.enums().source);
    verdict type = prog_type(prog_type_name);
    if (!type.supported()) return gated(type);
    return cached("helper/" + std::string(prog_type_name) + "/" + std::string(helper_name), [&] {
      auto setup =
          probe::helper_setup(ctx_, prog_type_name, static_cast<std::uint32_t>(*ctx_.prog_type(prog_type_name)));
      return probe::probe_helper(ctx_, setup, static_cast<std::int32_t>(*id));
    });
  }

  verdict misc(std::string_view name) {
    for (const auto& row : probe::misc_probes())
      if (row.info.name == name) return cached("misc/" + std::string(name), [&] { return row.run(ctx_); });
    return verdict::unknown("no such misc probe: " + std::string(name));
  }

  // kfunc("bpf_rdonly_cast"): the kernel has this kfunc and some program type may call it. Program
  // types are tried cheapest first until one may (probe/kfuncs.hpp); BTF bpf_kfunc tags list them.
  verdict kfunc(std::string_view name) {
    return cached(probe::kfunc_key(name), [&] { return probe::kfunc_verdict(ctx_, kfunc_state(), name); });
  }

  // kfunc("bpf_task_acquire", "xdp"): may programs of this type call it?
  verdict kfunc(std::string_view name, std::string_view prog_type_name) {
    if (!ctx_.prog_type(prog_type_name))
      return verdict::no("kernel does not define this program type", 0, ctx_.enums().source);
    if (verdict type = prog_type(prog_type_name); type.state == status::unsupported) return gated(type);
    return cached(probe::kfunc_key(name, prog_type_name),
                  [&] { return probe::kfunc_type(ctx_, kfunc_state(), name, prog_type_name); });
  }

  // iterator("task") (seq_file target), "bpf_iter_num" (open-coded), "bpf_loop" (callback).
  verdict iterator(std::string_view name) {
    return cached("iterator/" + std::string(name), [&] {
      for (const auto& row : probe::iterator_rows(ctx_, kfunc_state().catalog_names()))
        if (row.name == name)
          return probe::run_iterator_row(ctx_, row, [this](std::string_view n) { return kfunc(n); });
      if (!ctx_.kernel_btf()) return verdict::unknown("no kernel BTF to find iterators in: " + ctx_.btf_error());
      return verdict::no("no iterator " + std::string(name) + " in this kernel's BTF", 0, ctx_.kernel_btf()->path());
    });
  }

  // The kernel's kfuncs (what kfunc() and the iterator and dynptr rows are built from).
  std::vector<std::string> kfunc_names() { return kfunc_state().catalog_names(); }

  // dynptr("skb") (a dynptr kind), "bpf_dynptr_slice", "bpf_ringbuf_reserve_dynptr", ...
  verdict dynptr(std::string_view name) {
    return cached("dynptr/" + std::string(name), [&] {
      for (const auto& row : probe::dynptr_rows(ctx_, kfunc_state().catalog_names()))
        if (row.name == name) return probe::run_dynptr_row(ctx_, row, [this](std::string_view n) { return kfunc(n); });
      return verdict::unknown("no such dynptr fact: " + std::string(name));
    });
  }

  // link("tcx"): does creating a link of this bpf_link_type really work here? Tries the type's
  // variants (attach types, APIs) in order until one does.
  verdict link(std::string_view link_type) {
    if (!btf::kernel_enums::value_of(ctx_.enums().link_types, link_type))
      return verdict::no("kernel does not define this link type", 0, ctx_.enums().source);
    return cached(probe::link_key(link_type), [&] {
      auto variants = probe::link_variants(ctx_, link_type);
      std::vector<verdict> tried;
      for (const auto& v : variants) {
        tried.push_back(
            cached(probe::link_variant_key(link_type, v.label), [&] { return probe::run_variant(ctx_, v); }));
        if (tried.back().supported()) break;
      }
      return probe::combine_variants(link_type, variants, tried);
    });
  }

  // link_attach_type("tracing", "trace_fentry"); also "raw_tracepoint_open" and "freplace", the
  // variants that take no attach type.
  verdict link_attach_type(std::string_view link_type, std::string_view attach) {
    for (const auto& v : probe::link_variants(ctx_, link_type))
      if (v.label == attach)
        return cached(probe::link_variant_key(link_type, v.label), [&] { return probe::run_variant(ctx_, v); });
    return verdict::unknown("no probe for link type " + std::string(link_type) + " with " + std::string(attach));
  }

  // mechanism("legacy_netlink_xdp"), "kprobe_pmu", "link_pin", ... (probe/attach_mechanisms.hpp)
  verdict mechanism(std::string_view name) {
    for (const auto& row : probe::mechanism_probes())
      if (row.info.name == name) return cached(probe::mechanism_key(name), [&] { return row.run(ctx_); });
    return verdict::unknown("no such attach mechanism probe: " + std::string(name));
  }

  // Caches, under `key`, a conclusive verdict computed by a layer above this one (decide/ attach facts).
  template <class F>
  verdict remember(const std::string& key, F&& compute) {
    return cached(key, std::forward<F>(compute));
  }

  // Every fact of the core sections. The helper matrix runs on all CPUs.
  report full_report() {
    // Link probes mostly wait on the kernel: they run beside everything else.
    auto links = std::async(std::launch::async, [this] {
      return probe::probe_links(ctx_, ctx_.opts().threads ? ctx_.opts().threads : probe::link_probe_threads);
    });
    report r;
    r.kernel = probe::read_kernel_info(ctx_);
    r.config_values = probe::read_kernel_config(r.kernel.release);
    r.kernel.config_source = r.config_values.source;
    r.names_source = ctx_.enums().source;
    r.names_from_btf = ctx_.enums().from_btf;

    for (const auto& e : ctx_.enums().prog_types)
      r.program_types.push_back(documented(e.name, prog_type(e.name), probe::prog_type_docs));
    for (const auto& e : ctx_.enums().map_types)
      r.map_types.push_back(documented(e.name, map_type(e.name), probe::map_type_docs));
    for (const auto& row : probe::misc_probes()) {
      fact f{std::string(row.info.name), misc(row.info.name), std::string(row.info.first_kernel),
             std::string(row.info.commit)};
      r.misc.push_back(std::move(f));
    }
    for (auto& [name, v] : probe::system_facts(r.kernel)) r.misc.push_back({name, std::move(v)});
    for (const char* opt : probe::config_options) {
      fact f{opt, probe::config_verdict(r.config_values, opt)};
      if (auto it = r.config_values.values.find(opt); it != r.config_values.values.end())
        f.attrs.emplace_back("value", it->second);
      r.config.push_back(std::move(f));
    }
    r.helpers = helper_matrix(r.program_types);
    auto lr = links.get();
    {
      std::lock_guard lock(mu_);
      for (auto& [key, v] : lr.verdicts)
        if (v.conclusive()) cache_.emplace(key, std::move(v));
    }
    auto kf = probe::kfunc_section(ctx_, kfunc_state(), ctx_.opts().kfunc_prog_types, ctx_.opts().threads);
    remember_all(kf.verdicts);
    r.kfunc_list_source = kfunc_state().catalog.from_tags ? "bpf_kfunc decl tags" : "load probes";
    r.kfuncs_undecided = kf.undecided;
    r.kfuncs_undecided_reason = kf.undecided_reason;
    r.more.emplace_back("kfuncs", std::move(kf.facts));
    r.more.emplace_back("links", std::move(lr.links));
    r.more.emplace_back("attach_mechanisms", std::move(lr.mechanisms));
    auto kfunc_query = [this](std::string_view n) { return kfunc(n); };
    r.more.emplace_back("dynptr", probe::dynptr_section(ctx_, kf.names, kfunc_query, ctx_.opts().threads));
    // Open-coded families from the whole catalog (with tags, the listed kfuncs; without, every
    // candidate: bpf_iter_<x>_new/_next/_destroy is their signature), so a family whose kfuncs could
    // not be decided is reported unknown instead of missing.
    r.more.emplace_back("iterators",
                        probe::iterator_section(ctx_, kfunc_state().catalog_names(), kfunc_query, ctx_.opts().threads));
    return r;
  }

 private:
  // Kfunc catalog, module BTF fds and call sites: built on first use, kept for the prober's life.
  const probe::kfunc_state& kfunc_state() {
    std::call_once(kfunc_once_, [&] {
      const auto& o = ctx_.opts();
      kfunc_state_ = probe::make_kfunc_state(
          ctx_, [&](std::string_view t) { return prog_type(t).state != status::unsupported; },
          o.kfunc_btf.empty() ? o.btf_path : o.kfunc_btf);
    });
    return *kfunc_state_;
  }

  void remember_all(std::vector<std::pair<std::string, verdict>>& verdicts) {
    std::lock_guard lock(mu_);
    for (auto& [key, v] : verdicts)
      if (v.conclusive()) cache_.emplace(key, std::move(v));
  }

  template <class F>
  verdict cached(const std::string& key, F&& compute) {
    {
      std::lock_guard lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    }
    verdict v = compute();
    if (v.conclusive()) {
      std::lock_guard lock(mu_);
      cache_.emplace(key, v);
    }
    return v;
  }

  // A helper on a program type that is not supported shares the type's verdict.
  static verdict gated(const verdict& type) {
    verdict v = type;
    v.reason = "program type " + std::string(to_string(type.state)) + (type.reason.empty() ? "" : ": " + type.reason);
    return v;
  }

  static fact documented(const std::string& name, verdict v, std::span<const probe::doc> docs) {
    fact f{name, std::move(v)};
    if (const auto* d = probe::find_doc(docs, name)) {
      f.first_kernel = d->first_kernel;
      f.commit = d->commit;
    }
    return f;
  }

  std::vector<std::pair<std::string, section>> helper_matrix(const section& types) {
    const auto& helpers = ctx_.enums().helpers;
    std::vector<std::pair<std::string, section>> out;
    struct job {
      std::size_t type_idx, helper_idx;
    };
    std::vector<job> jobs;
    std::vector<probe::load_setup> setups(types.size());
    for (std::size_t t = 0; t < types.size(); ++t) {
      section s(helpers.size());
      for (std::size_t h = 0; h < helpers.size(); ++h) s[h] = documented(helpers[h].name, {}, probe::helper_docs);
      if (types[t].v.supported()) {
        setups[t] =
            probe::helper_setup(ctx_, types[t].name, static_cast<std::uint32_t>(*ctx_.prog_type(types[t].name)));
        for (std::size_t h = 0; h < helpers.size(); ++h) jobs.push_back({t, h});
      } else {
        for (auto& f : s) f.v = gated(types[t].v);
      }
      out.emplace_back(types[t].name, std::move(s));
    }
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t i; (i = next.fetch_add(1)) < jobs.size();) {
        const auto& j = jobs[i];
        out[j.type_idx].second[j.helper_idx].v =
            probe::probe_helper(ctx_, setups[j.type_idx], static_cast<std::int32_t>(helpers[j.helper_idx].value));
      }
    };
    unsigned n = ctx_.opts().threads ? ctx_.opts().threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::jthread> pool;
    for (unsigned i = 1; i < n; ++i) pool.emplace_back(worker);
    worker();
    pool.clear();
    // Conclusive helper verdicts join the cache for later lazy queries.
    std::lock_guard lock(mu_);
    for (const auto& [type, s] : out)
      for (const auto& f : s)
        if (f.v.conclusive()) cache_.emplace("helper/" + type + "/" + f.name, f.v);
    return out;
  }

  probe::context ctx_;
  std::mutex mu_;
  std::once_flag kfunc_once_;
  std::unique_ptr<probe::kfunc_state> kfunc_state_;
  std::map<std::string, verdict, std::less<>> cache_;
};

}  // namespace bpfprobe
