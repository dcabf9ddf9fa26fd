// The prober: lazy, cached queries for single facts, and the full report. Only conclusive verdicts
// are cached; an unknown one is probed again on the next query. The cache persists across processes
// (probe/persist.hpp) unless options::cache turns it off.
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
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/persist.hpp>
#include <bpfprobe/probe/prog_types.hpp>
#include <bpfprobe/probe/report.hpp>
#include <bpfprobe/probe/system.hpp>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace bpfprobe {

class prober {
 public:
  explicit prober(const probe::options& opt = {}) : ctx_(opt) {}
  prober(const prober&) = delete;
  prober& operator=(const prober&) = delete;
  // What this prober decided goes to the persistent cache (when on and something new was learned).
  ~prober() {
    try {
      save_cache();
    } catch (...) {
    }
  }

  // Writes the persistent cache now: false when it is off, nothing new was decided, or it could not
  // be written (the next run then probes again).
  bool save_cache() {
    load_cache();
    std::lock_guard lock(mu_);
    if (cache_file_.empty() || !dirty_ || poisoned_ || tainted()) return false;
    probe::persist::contents c;
    // Another process may have filled the same file meanwhile: keep its verdicts too.
    if (auto theirs = probe::persist::load(cache_file_, cache_key_)) {
      c.verdicts = std::move(theirs->verdicts);
      c.report = std::move(theirs->report);
    }
    for (const auto& [k, v] : cache_) c.verdicts.insert_or_assign(k, v);
    if (stored_report_) c.report = *stored_report_;
    // Helper verdicts of the matrix live in the report's helper sections, not twice in the file.
    if (c.report)
      std::erase_if(c.verdicts, [&](const auto& kv) {
        if (!kv.first.starts_with("helper/")) return false;
        auto slash = kv.first.find('/', 7);
        return slash != std::string::npos && c.report->find("helper:" + kv.first.substr(7, slash - 7)) != nullptr;
      });
    if (!probe::persist::store(cache_file_, probe::persist::serialize(cache_key_, c))) return false;
    dirty_ = false;
    return true;
  }

  // The persistent cache file this prober reads and writes; empty when the cache is off.
  [[nodiscard]] std::filesystem::path cache_file() {
    load_cache();
    return cache_file_;
  }
  // Verdicts this prober took from the persistent cache (for tests and `bpfprobe cache show`).
  [[nodiscard]] std::size_t cache_hits() const noexcept { return hits_.load(); }

  [[nodiscard]] const probe::context& context() const noexcept { return ctx_; }

  verdict prog_type(std::string_view name) {
    if (auto hit = lookup("prog_type/" + std::string(name))) return *hit;
    if (auto built = ctx_.builtin_value(&btf::kernel_enums::prog_types, name))
      if (auto v = lean("prog_type/" + std::string(name),
                        [&] { return probe::probe_prog_type(ctx_, name, static_cast<std::uint32_t>(*built)); }))
        return *v;
    auto value = ctx_.prog_type(name);
    if (!value) return verdict::no("kernel does not define this program type", 0, ctx_.enums().source);
    return cached("prog_type/" + std::string(name),
                  [&] { return probe::probe_prog_type(ctx_, name, static_cast<std::uint32_t>(*value)); });
  }

  verdict map_type(std::string_view name) {
    if (auto hit = lookup("map_type/" + std::string(name))) return *hit;
    if (auto built = ctx_.builtin_value(&btf::kernel_enums::map_types, name))
      if (auto v = lean("map_type/" + std::string(name),
                        [&] { return probe::probe_map_type(ctx_, name, static_cast<std::uint32_t>(*built)); }))
        return *v;
    auto value = btf::kernel_enums::value_of(ctx_.enums().map_types, name);
    if (!value) return verdict::no("kernel does not define this map type", 0, ctx_.enums().source);
    return cached("map_type/" + std::string(name),
                  [&] { return probe::probe_map_type(ctx_, name, static_cast<std::uint32_t>(*value)); });
  }

  // helper("xdp", "bpf_redirect")
  verdict helper(std::string_view prog_type_name, std::string_view helper_name) {
    std::string key = "helper/" + std::string(prog_type_name) + "/" + std::string(helper_name);
    if (auto hit = lookup(key)) return *hit;
    if (auto built = ctx_.builtin_value(&btf::kernel_enums::helpers, helper_name)) {
      verdict type = prog_type(prog_type_name);
      if (!type.supported()) return gated(type);
      auto type_value = ctx_.builtin_value(&btf::kernel_enums::prog_types, prog_type_name);
      if (type_value)
        if (auto v = lean(key, [&] {
              auto setup = probe::helper_setup(ctx_, prog_type_name, static_cast<std::uint32_t>(*type_value));
              return probe::probe_helper(ctx_, setup, static_cast<std::int32_t>(*built));
            }))
          return *v;
    }
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
    if (auto hit = lookup(probe::kfunc_key(name, prog_type_name))) return *hit;
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
    if (auto hit = lookup(probe::link_key(link_type))) return *hit;
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
    if (auto hit = lookup(probe::link_variant_key(link_type, attach))) return *hit;
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

  // Every fact of the core sections. The helper matrix runs on all CPUs. Sections found in the
  // persistent cache are taken from it; their facts that were not conclusive are probed again, and
  // facts about runtime state (sysctls, lockdown, kernel config) are always read afresh.
  report full_report() {
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
      for (std::size_t i = 0; i < facts.size(); ++i) s.missing[i] = !facts[i].v.conclusive();
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
        if (row.info.name == n)
          return fact{n, misc(n), std::string(row.info.first_kernel), std::string(row.info.commit)};
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

 private:
  // The kfunc-derived sections of the full report.
  struct kfunc_part {
    section kfuncs, dynptr, iterators;
    std::vector<std::string> names;
    std::string list_source, undecided_reason;
    std::size_t undecided = 0;
  };

  // A stored section with its missing facts probed again.
  template <class F>
  static section restore(const probe::persist::stored_section& s, F&& fresh) {
    section out = s.facts;
    for (std::size_t i = 0; i < out.size(); ++i)
      if (s.missing[i]) out[i] = fresh(out[i].name);
    return out;
  }

  static bool same_report(const probe::persist::stored_report& a, const probe::persist::stored_report& b) {
    if (a.sections.size() != b.sections.size()) return false;
    for (std::size_t i = 0; i < a.sections.size(); ++i)
      if (a.sections[i].name != b.sections[i].name || a.sections[i].missing != b.sections[i].missing) return false;
    return true;
  }

  // The link fact of the report for one type: every variant tried (its attach types listed).
  fact link_fact(const std::string& link_type) {
    auto variants = probe::link_variants(ctx_, link_type);
    std::vector<verdict> vs;
    for (const auto& v : variants)
      vs.push_back(cached(probe::link_variant_key(link_type, v.label), [&] { return probe::run_variant(ctx_, v); }));
    fact f = probe::link_fact(link_type, variants, vs);
    if (f.v.conclusive()) remember(probe::link_key(link_type), [&] { return f.v; });
    return f;
  }

  // The mechanism fact of the report: a row implied by another supported row takes its verdict.
  fact mechanism_fact(const std::string& name, const section& so_far) {
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
    if (tainted()) poisoned_ = true;
    std::lock_guard lock(mu_);
    for (auto& [key, v] : verdicts)
      if (v.conclusive() && cache_.emplace(key, std::move(v)).second) dirty_ = true;
  }

  template <class F>
  verdict cached(const std::string& key, F&& compute) {
    load_cache();
    {
      std::lock_guard lock(mu_);
      if (auto it = cache_.find(key); it != cache_.end()) {
        bool from_disk = loaded_.count(key) != 0;
        if (!from_disk || !tainted()) {
          if (from_disk) ++hits_;
          return it->second;
        }
      }
    }
    verdict v = compute();
    if (tainted()) poisoned_ = true;
    if (v.conclusive()) {
      std::lock_guard lock(mu_);
      if (cache_.emplace(key, v).second) dirty_ = true;
    }
    return v;
  }

  // A fact probed with the build's own enum value, before any BTF is read (enum values are ABI).
  // Supported needs no more; any other verdict stands only when the kernel's BTF has the name too,
  // else nullopt, and the caller says "kernel does not define" as it would without this shortcut.
  template <class F>
  std::optional<verdict> lean(const std::string& key, F&& probe_it) {
    verdict v = probe_it();
    if (tainted()) poisoned_ = true;
    if (!v.supported()) {
      auto slash = key.find('/');
      std::string_view kind = std::string_view(key).substr(0, slash);
      std::string_view name = std::string_view(key).substr(key.rfind('/') + 1);
      const auto& e = ctx_.enums();
      const auto& table = kind == "prog_type" ? e.prog_types : kind == "map_type" ? e.map_types : e.helpers;
      if (!btf::kernel_enums::value_of(table, name)) return std::nullopt;
    }
    if (v.conclusive()) {
      std::lock_guard lock(mu_);
      if (cache_.emplace(key, v).second) dirty_ = true;
    }
    return v;
  }

  // A verdict already decided (by this prober or, from the persistent cache, by an earlier process):
  // answered without touching BTF or the kernel.
  std::optional<verdict> lookup(const std::string& key) {
    load_cache();
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) return std::nullopt;
    if (loaded_.count(key)) {
      if (tainted()) return std::nullopt;  // injected faults reach whatever this process did not decide
      ++hits_;
    }
    return it->second;
  }

  // Probes under a syscall override (fault injection) must neither read nor write the shared cache.
  static bool tainted() noexcept { return &sys::syscalls::active() != &sys::syscalls::real(); }

  void load_cache() {
    std::call_once(load_once_, [this] {
      const auto& o = ctx_.opts();
      if (!probe::persist::cache_enabled(o) || tainted()) return;
      auto dir = probe::persist::cache_dir(o);
      if (dir.empty()) return;
      cache_key_ = probe::persist::cache_key(o);
      cache_file_ = probe::persist::file_for(dir, cache_key_);
      if (o.cache.refresh) {
        dirty_ = true;  // replace what is there even when this run learns nothing new
        return;
      }
      // The report sections are read only when a full report asks for them (load_stored_report).
      auto c = probe::persist::load(cache_file_, cache_key_, false);
      if (!c) {
        dirty_ = true;  // absent, foreign or corrupt: replaced
        return;
      }
      for (const auto& [k, v] : c->verdicts) loaded_.insert(k);
      cache_ = std::move(c->verdicts);
      report_follows_ = c->report_follows;
    });
  }

  // The stored report sections; their conclusive helper facts join the cache (they are not stored
  // twice). A file that turns out corrupt here is ignored as a whole and replaced.
  void load_stored_report() {
    load_cache();
    std::lock_guard lock(mu_);  // two full reports at once: one reads the file, the other waits
    if (!report_follows_ || from_disk_report_) return;
    report_follows_ = false;
    auto c = probe::persist::load(cache_file_, cache_key_);
    if (!c || !c->report) {
      dirty_ = true;
      return;
    }
    stored_report_ = std::make_shared<const probe::persist::stored_report>(std::move(*c->report));
    from_disk_report_ = true;
    for (const auto& s : stored_report_->sections) {
      if (!s.name.starts_with("helper:")) continue;
      std::string prefix = "helper/" + s.name.substr(7) + "/";
      for (std::size_t i = 0; i < s.facts.size(); ++i)
        if (!s.missing[i]) {
          auto key = prefix + s.facts[i].name;
          if (cache_.emplace(key, s.facts[i].v).second) loaded_.insert(std::move(key));
        }
    }
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
    probe::parallel_for(jobs.size(), ctx_.opts().threads, [&](std::size_t i) {
      const auto& j = jobs[i];
      out[j.type_idx].second[j.helper_idx].v =
          probe::probe_helper(ctx_, setups[j.type_idx], static_cast<std::int32_t>(helpers[j.helper_idx].value));
    });
    // Conclusive helper verdicts join the cache for later lazy queries.
    std::lock_guard lock(mu_);
    for (const auto& [type, s] : out)
      for (const auto& f : s)
        if (f.v.conclusive()) cache_.emplace("helper/" + type + "/" + f.name, f.v);
    return out;
  }

  probe::context ctx_;
  std::mutex mu_;
  std::once_flag load_once_;
  std::string cache_key_;
  std::filesystem::path cache_file_;
  std::set<std::string, std::less<>> loaded_;  // keys read from the persistent cache
  // Replaced whole, never changed in place: a full report reads a snapshot while another stores.
  std::shared_ptr<const probe::persist::stored_report> stored_report_;
  bool from_disk_report_ = false;
  bool report_follows_ = false;
  bool dirty_ = false;
  // Something was decided under a syscall override (fault injection): nothing of this prober is
  // written, even when the override is gone by the time it is saved.
  std::atomic<bool> poisoned_{false};
  std::atomic<std::size_t> hits_{0};
  std::once_flag kfunc_once_;
  std::unique_ptr<probe::kfunc_state> kfunc_state_;
  std::map<std::string, verdict, std::less<>> cache_;
};

}  // namespace bpfprobe
