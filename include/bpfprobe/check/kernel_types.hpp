// The running kernel's BTF (vmlinux, then module BTF on top of it) indexed by name once, for the
// many lookups of a check: attach targets, kfuncs, ksyms and CO-RE candidates. libbpf's
// btf__find_by_name_kind scans every type per call; a check may make hundreds of lookups.
#pragma once

#include <bpf/btf.h>
#include <dirent.h>

#include <bpfprobe/btf/kernel_btf.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::objcheck {

struct type_ref {
  const struct btf* btf;
  std::uint32_t id;
  [[nodiscard]] const btf_type* type() const { return btf__type_by_id(btf, id); }
};

class kernel_types {
 public:
  // `vmlinux` may be null (no kernel BTF): every lookup then finds nothing and available() is false.
  explicit kernel_types(const struct btf* vmlinux) : vmlinux_(vmlinux) {
    if (vmlinux_) add(vmlinux_, 1);
  }
  // A recorded kernel's BTF (a snapshot): its module BTFs are these, never this machine's sysfs.
  // All must outlive this index.
  kernel_types(const struct btf* vmlinux, const std::vector<const struct btf*>& modules) : vmlinux_(vmlinux) {
    if (vmlinux_) add(vmlinux_, 1);
    std::call_once(modules_once_, [&] {
      if (!vmlinux_) return;
      for (const struct btf* m : modules) {
        module_index_.emplace_back();
        add(m, btf__type_cnt(vmlinux_), &module_index_.back());
      }
    });
  }
  [[nodiscard]] bool available() const { return vmlinux_ != nullptr; }
  [[nodiscard]] const struct btf* vmlinux() const { return vmlinux_; }

  // Types named `name` of kind `kind` in vmlinux; when vmlinux has none, in module BTF (as libbpf
  // looks for CO-RE candidates and attach targets).
  std::vector<type_ref> find(std::string_view name, int kind) {
    auto out = lookup(vmlinux_index_, name, kind);
    if (!out.empty()) return out;
    load_modules();
    for (const auto& idx : module_index_) {
      auto more = lookup(idx, name, kind);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }
  bool has(std::string_view name, int kind) { return !find(name, kind).empty(); }

 private:
  // An open-addressing table of type ids hashed by name: one pass, no allocation per name (an
  // unordered_map of vectors took 40+ ms over vmlinux's ~100k named types).
  struct index {
    const struct btf* btf = nullptr;
    std::vector<std::uint32_t> slots;  // type ids; 0: empty
    std::size_t mask = 0;
  };

  static std::size_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

  static std::vector<type_ref> lookup(const index& idx, std::string_view name, int kind) {
    std::vector<type_ref> out;
    if (idx.slots.empty()) return out;
    for (std::size_t i = hash(name) & idx.mask; idx.slots[i]; i = (i + 1) & idx.mask) {
      const btf_type* t = btf__type_by_id(idx.btf, idx.slots[i]);
      if (btf_kind(t) == kind && name == btf__name_by_offset(idx.btf, t->name_off))
        out.push_back({idx.btf, idx.slots[i]});
    }
    return out;
  }

  void add(const struct btf* b, std::uint32_t first, index* idx = nullptr) {
    if (!idx) idx = &vmlinux_index_;
    std::uint32_t n = btf__type_cnt(b);
    std::size_t size = 1;
    while (size < 2 * static_cast<std::size_t>(n - first + 1)) size <<= 1;
    idx->btf = b;
    idx->slots.assign(size, 0);
    idx->mask = size - 1;
    for (std::uint32_t id = first; id < n; ++id) {
      const btf_type* t = btf__type_by_id(b, id);
      if (!t || !t->name_off) continue;
      const char* name = btf__name_by_offset(b, t->name_off);
      if (!name || !*name) continue;
      std::size_t i = hash(name) & idx->mask;
      while (idx->slots[i]) i = (i + 1) & idx->mask;
      idx->slots[i] = id;
    }
  }

  void load_modules() {
    std::call_once(modules_once_, [&] {
      if (!vmlinux_) return;
      DIR* d = opendir("/sys/kernel/btf");
      if (!d) return;
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || n == "vmlinux") continue;
        struct btf* m = btf__parse_split(("/sys/kernel/btf/" + n).c_str(), const_cast<struct btf*>(vmlinux_));
        if (!m || libbpf_get_error(m)) continue;
        modules_.emplace_back(m);
        module_index_.emplace_back();
        add(m, btf__type_cnt(vmlinux_), &module_index_.back());
      }
      closedir(d);
    });
  }

  const struct btf* vmlinux_;
  index vmlinux_index_;
  std::vector<index> module_index_;  // one per module BTF
  std::once_flag modules_once_;
  std::vector<btf::btf_ptr> modules_;
};

// One index per kernel BTF for the life of the process: checks of several objects (or several checks
// with one prober) index vmlinux once. `vmlinux` must live as long as the process (process_vmlinux_btf).
inline kernel_types& kernel_types_for(const struct btf* vmlinux) {
  static std::mutex mu;
  static std::map<const struct btf*, std::unique_ptr<kernel_types>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[vmlinux];
  if (!slot) slot = std::make_unique<kernel_types>(vmlinux);
  return *slot;
}

// vmlinux BTF loaded by libbpf once per process, when the prober's is not vmlinux (--btf FILE).
inline const struct btf* process_vmlinux_btf() {
  static btf::btf_ptr own = [] {
    struct btf* v = btf__load_vmlinux_btf();
    if (!v || libbpf_get_error(v)) return btf::btf_ptr();
    return btf::btf_ptr(v);
  }();
  return own.get();
}

}  // namespace bpfprobe::objcheck
