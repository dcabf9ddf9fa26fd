// The prober: lazy, cached queries for single facts, and the full report. Conclusive verdicts are
// cached, and unknown ones whose cause is in the cache key (an EPERM of privileges or lockdown:
// probe::persist::stable_causes); any other unknown one is probed again on the next query. The cache persists across
// processes (probe/persist.hpp) unless options::cache turns it off. The cache's member functions are defined in
// prober/cache.hpp, the full report's in prober/full_report.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <bpfprobe/catalog/calibration.hpp>
#include <bpfprobe/catalog/dynptr.hpp>
#include <bpfprobe/catalog/helpers.hpp>
#include <bpfprobe/catalog/iterators.hpp>
#include <bpfprobe/catalog/kfuncs.hpp>
#include <bpfprobe/catalog/map_types.hpp>
#include <bpfprobe/catalog/misc.hpp>
#include <bpfprobe/catalog/prog_types.hpp>
#include <bpfprobe/catalog/system.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/persist.hpp>
#include <bpfprobe/report/link_report.hpp>
#include <bpfprobe/report/model.hpp>
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
  bool save_cache();

  // The persistent cache file this prober reads and writes; empty when the cache is off.
  [[nodiscard]] std::filesystem::path cache_file() {
    load_cache();
    return cache_file_;
  }
  // Verdicts this prober took from the persistent cache (for tests and `bpfprobe cache show`).
  [[nodiscard]] std::size_t cache_hits() const noexcept { return hits_.load(); }

  [[nodiscard]] const probe::context& context() const noexcept { return ctx_; }

  verdict prog_type(std::string_view name) {
    return enum_fact("prog_type/", &btf::kernel_enums::prog_types, name, "program type", probe::probe_prog_type);
  }

  verdict map_type(std::string_view name) {
    return enum_fact("map_type/", &btf::kernel_enums::map_types, name, "map type", probe::probe_map_type);
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
  // types are tried cheapest first until one may (catalog/kfuncs.hpp); BTF bpf_kfunc tags list them.
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

  // mechanism("legacy_netlink_xdp"), "kprobe_pmu", "link_pin", ... (catalog/attach_mechanisms.hpp)
  verdict mechanism(std::string_view name) {
    for (const auto& row : probe::mechanism_probes())
      if (row.info.name == name) return cached(probe::mechanism_key(name), [&] { return row.run(ctx_); });
    return verdict::unknown("no such attach mechanism probe: " + std::string(name));
  }

  // calibrate("xdp_fires"): attaches a tiny program, fires it once from this process and reads back
  // what it recorded (catalog/calibration.hpp); the verdict may carry a measured value. Cached like
  // every conclusive verdict, the value too.
  verdict calibrate(std::string_view name) {
    const auto* row = probe::find_calib(name);
    if (!row) return verdict::unknown("no such calibration fact: " + std::string(name));
    return cached(probe::calib_key(name), [&] { return probe::run_calib(ctx_, *row); });
  }

  // Every calibration fact, all at once (report section "calibration"); run only when asked.
  section calibration() {
    const auto& rows = probe::calib_probes();
    section out(rows.size());
    probe::parallel_for(rows.size(), ctx_.opts().threads ? ctx_.opts().threads : static_cast<unsigned>(rows.size()),
                        [&](std::size_t i) {
                          const auto& row = rows[i];
                          fact f{std::string(row.info.name), calibrate(row.info.name),
                                 std::string(row.info.first_kernel), std::string(row.info.commit)};
                          if (f.v.value && !row.unit.empty()) f.attrs.emplace_back("unit", std::string(row.unit));
                          out[i] = std::move(f);
                        });
    return out;
  }

  // Every verdict this prober holds (decided, or taken from its cache or record), by cache key:
  // what a kernel snapshot records for a prober answering elsewhere (options::recorded).
  // That includes the unknowns it decided but did not cache (their cause is not in the cache key,
  // e.g. an EPERM where lockdown cannot be read): a snapshot without them would answer "not decided".
  [[nodiscard]] std::vector<std::pair<std::string, verdict>> decided() {
    load_cache();
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, verdict>> out(cache_.begin(), cache_.end());
    for (const auto& [key, v] : unkept_)
      if (!cache_.count(key)) out.emplace_back(key, v);
    return out;
  }

  // Caches, under `key`, a verdict computed by a layer above this one (decide/ attach facts).
  template <class F>
  verdict remember(const std::string& key, F&& compute) {
    return cached(key, std::forward<F>(compute));
  }

  // Every fact of the core sections. The helper matrix runs on all CPUs. Sections found in the
  // persistent cache are taken from it; their facts that were not kept are probed again, and
  // facts about runtime state (sysctls, lockdown, kernel config) are always read afresh.
  report full_report();

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
  static section restore(const probe::persist::stored_section& s, F&& fresh);

  static bool same_report(const probe::persist::stored_report& a, const probe::persist::stored_report& b);

  // The link fact of the report for one type: every variant tried (its attach types listed).
  fact link_fact(const std::string& link_type);

  // The mechanism fact of the report: a row implied by another supported row takes its verdict.
  fact mechanism_fact(const std::string& name, const section& so_far);

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

  void remember_all(std::vector<std::pair<std::string, verdict>>& verdicts);

  template <class F>
  verdict cached(const std::string& key, F&& compute);

  // A fact probed with the build's own enum value, before any BTF is read (enum values are ABI).
  // Supported needs no more; any other verdict stands only when the kernel's BTF has the name too,
  // else nullopt, and the caller says "kernel does not define" as it would without this shortcut.
  template <class F>
  std::optional<verdict> lean(const std::string& key, F&& probe_it);

  // A program or map type (`prefix` "prog_type/" or "map_type/"): cached, else probed with its value,
  // the build's own first (lean), then the kernel's BTF one.
  template <class Probe>
  verdict enum_fact(std::string_view prefix, std::vector<btf::entry> btf::kernel_enums::*table, std::string_view name,
                    std::string_view what, Probe probe_it) {
    const std::string key = std::string(prefix) + std::string(name);
    if (auto hit = lookup(key)) return *hit;
    if (auto built = ctx_.builtin_value(table, name))
      if (auto v = lean(key, [&] { return probe_it(ctx_, name, static_cast<std::uint32_t>(*built)); })) return *v;
    auto value = btf::kernel_enums::value_of(ctx_.enums().*table, name);
    if (!value) return verdict::no("kernel does not define this " + std::string(what), 0, ctx_.enums().source);
    return cached(key, [&] { return probe_it(ctx_, name, static_cast<std::uint32_t>(*value)); });
  }

  // What a prober answering for a recorded kernel says of a fact the record lacks.
  static verdict not_recorded(const probe::recorded_kernel& r, const std::string& key) {
    return verdict::unknown(r.name + " has no verdict for " + key + " (not decided where it was made)");
  }

  // A verdict already decided (by this prober or, from the persistent cache, by an earlier process):
  // answered without touching BTF or the kernel.
  std::optional<verdict> lookup(const std::string& key);

  // Probes under a syscall override (fault injection) must neither read nor write the shared cache.
  static bool tainted() noexcept { return &sys::syscalls::active() != &sys::syscalls::real(); }

  void load_cache();

  // The stored report sections; their kept helper facts join the cache (they are not stored
  // twice). A file that turns out corrupt here is ignored as a whole and replaced.
  void load_stored_report();

  // Caches `v` under `key` when keeps(v), else records it for decided() only.
  void store_verdict(const std::string& key, const verdict& v);

  // Whether a verdict is cached: conclusive, or unknown for a cause in the cache key
  // (probe::persist::stable_causes; set by load_cache, so only conclusive ones before it ran).
  // Never called with mu_ held: it may probe memcg accounting (learn_memcg).
  bool keeps(const verdict& v) {
    if (v.conclusive()) return true;
    if (v.err != EPERM) return false;
    learn_memcg();
    return stable_.keeps(v);
  }

  // Whether an EPERM can be RLIMIT_MEMLOCK: only when the limit is finite and the kernel charges BPF
  // memory to it. Decided once (from the cache, else by the misc probe), not through cached(), which
  // calls keeps().
  void learn_memcg() {
    load_cache();  // stable_ first
    std::call_once(memcg_once_, [this] {
      if (stable_.memlock_unlimited || (!stable_.lockdown && !stable_.lacks_capability)) return;
      const std::string key = "misc/memcg_accounting";
      verdict m;
      if (auto hit = lookup(key)) {
        m = *hit;
      } else {
        for (const auto& row : probe::misc_probes())
          if (row.info.name == "memcg_accounting") m = row.run(ctx_);
        if (m.conclusive()) {
          std::lock_guard lock(mu_);
          if (cache_.emplace(key, m).second) dirty_ = true;
        }
      }
      stable_.memcg_charged = m.supported();
    });
  }

  // A helper on a program type that is not supported shares the type's verdict.
  static verdict gated(const verdict& type) {
    verdict v = type;
    v.reason = "program type " + std::string(to_string(type.state)) + (type.reason.empty() ? "" : ": " + type.reason);
    return v;
  }

  static fact documented(const std::string& name, verdict v, std::span<const probe::doc> docs);

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
    // Kept helper verdicts join the cache for later lazy queries; the others probed here are
    // recorded for decided() (a helper of an unsupported type is not: helper() does not record it).
    learn_memcg();
    std::lock_guard lock(mu_);
    for (std::size_t t = 0; t < out.size(); ++t)
      for (const auto& f : out[t].second) {
        std::string key = "helper/" + out[t].first + "/" + f.name;
        if (stable_.keeps(f.v))
          cache_.emplace(std::move(key), f.v);
        else if (types[t].v.supported())
          unkept_.insert_or_assign(std::move(key), f.v);
      }
    return out;
  }

  probe::context ctx_;
  std::mutex mu_;
  std::once_flag load_once_;
  std::string cache_key_;
  probe::persist::stable_causes stable_;
  std::once_flag memcg_once_;
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
  // Verdicts this process decided and did not cache (keeps() said no): for decided() only; a
  // query probes them again.
  std::map<std::string, verdict, std::less<>> unkept_;
};

}  // namespace bpfprobe

#include <bpfprobe/prober/cache.hpp>
#include <bpfprobe/prober/full_report.hpp>
