// The prober's verdict cache: verdicts decided in this process, those read from the persistent
// cache file (probe/persist.hpp) and the stored sections of the last full report, and when they are
// written back. Nothing decided under a syscall override (fault injection) is read or written.
#pragma once

#include <bpfprobe/probe/persist.hpp>
#include <bpfprobe/prober/prober.hpp>

namespace bpfprobe {

inline bool prober::save_cache() {
  load_cache();
  learn_memcg();  // what the file keeps depends on it
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
  if (!probe::persist::store(cache_file_, probe::persist::serialize(cache_key_, c, stable_))) return false;
  dirty_ = false;
  return true;
}

inline void prober::remember_all(std::vector<std::pair<std::string, verdict>>& verdicts) {
  if (tainted()) poisoned_ = true;
  learn_memcg();
  std::lock_guard lock(mu_);
  for (auto& [key, v] : verdicts) {
    if (!stable_.keeps(v))
      unkept_.insert_or_assign(key, std::move(v));
    else if (cache_.emplace(key, std::move(v)).second)
      dirty_ = true;
  }
}

template <class F>
verdict prober::cached(const std::string& key, F&& compute) {
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
  if (const auto& r = ctx_.opts().recorded) return not_recorded(*r, key);
  verdict v = compute();
  if (tainted()) poisoned_ = true;
  store_verdict(key, v);
  return v;
}

inline void prober::store_verdict(const std::string& key, const verdict& v) {
  bool keep = keeps(v);
  std::lock_guard lock(mu_);
  if (!keep)
    unkept_.insert_or_assign(key, v);
  else if (cache_.emplace(key, v).second)
    dirty_ = true;
}

template <class F>
std::optional<verdict> prober::lean(const std::string& key, F&& probe_it) {
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
  store_verdict(key, v);
  return v;
}

inline std::optional<verdict> prober::lookup(const std::string& key) {
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

inline void prober::load_cache() {
  std::call_once(load_once_, [this] {
    const auto& o = ctx_.opts();
    if (o.recorded) {
      for (const auto& [k, v] : o.recorded->verdicts) cache_.emplace(k, v);
      return;
    }
    if (tainted()) return;  // an injected EPERM is kept by nobody
    stable_ = probe::persist::stable_causes::of_this_process(ctx_);
    if (!probe::persist::cache_enabled(o)) return;
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

inline void prober::load_stored_report() {
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

}  // namespace bpfprobe
