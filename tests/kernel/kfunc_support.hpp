// Helpers for the kfunc, dynptr and iterator kernel tests: what the kernel's BTF says (read here
// with libbpf, independently of the prober), a copy of vmlinux BTF with its bpf_kfunc tags hidden,
// and a snapshot of what a probe could leave behind.
#pragma once

#include <bpf/btf.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <bpfprobe/bpfprobe.hpp>
#include <bpfprobe/sys/link.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/failing_command.hpp"
#include "run.hpp"

namespace bpfprobe::testing {

inline constexpr const char* vmlinux = "/sys/kernel/btf/vmlinux";

// Names of FUNCs tagged decl_tag("bpf_kfunc") in one BTF (split BTF: its own types only).
inline std::set<std::string> tagged_kfuncs(const struct btf* b) {
  std::set<std::string> out;
  const struct btf* base = btf__base_btf(b);
  for (unsigned id = base ? btf__type_cnt(base) : 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1) continue;
    if (std::strcmp(btf__name_by_offset(b, t->name_off), "bpf_kfunc") != 0) continue;
    const btf_type* f = btf__type_by_id(b, t->type);
    if (f && btf_is_func(f)) out.insert(btf__name_by_offset(b, f->name_off));
  }
  return out;
}

// A test that loads programs against the kernel's BTF: skipped without root or vmlinux BTF.
struct kernel_btf_test : ::testing::Test {
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root to load BPF programs";
    if (!std::filesystem::exists(vmlinux)) GTEST_SKIP() << "kernel has no BTF: no kfuncs or iterators to find";
  }
};

// Tagged kfuncs of vmlinux and every module, name -> module.
inline std::map<std::string, std::string> kernel_tagged_kfuncs() {
  std::map<std::string, std::string> out;
  struct btf* base = btf__parse(vmlinux, nullptr);
  if (!base) return out;
  for (const auto& n : tagged_kfuncs(base)) out.emplace(n, "vmlinux");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/kernel/btf", ec)) {
    std::string m = e.path().filename().string();
    if (m == "vmlinux") continue;
    struct btf* mod = btf__parse_split(e.path().c_str(), base);
    if (!mod) continue;
    for (const auto& n : tagged_kfuncs(mod)) out.emplace(n, m);
    btf__free(mod);
  }
  btf__free(base);
  return out;
}

// seq_file iterator targets: struct bpf_iter__<t> with FUNC bpf_iter_<t>.
inline std::set<std::string> kernel_iter_targets() {
  std::set<std::string> structs, funcs, out;
  struct btf* b = btf__parse(vmlinux, nullptr);
  if (!b) return out;
  for (unsigned id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    std::string n = btf__name_by_offset(b, t->name_off);
    if (btf_is_struct(t) && n.rfind("bpf_iter__", 0) == 0) structs.insert(n.substr(10));
    if (btf_is_func(t) && n.rfind("bpf_iter_", 0) == 0) funcs.insert(n.substr(9));
  }
  btf__free(b);
  for (const auto& s : structs)
    if (funcs.count(s)) out.insert(s);
  return out;
}

// Enumerators of `enum <name>` with `prefix` stripped, lower-cased.
inline std::vector<std::string> kernel_enum(const char* name, const std::string& prefix) {
  std::vector<std::string> out;
  struct btf* b = btf__parse(vmlinux, nullptr);
  if (!b) return out;
  int id = btf__find_by_name_kind(b, name, BTF_KIND_ENUM);
  if (id > 0) {
    const btf_type* t = btf__type_by_id(b, static_cast<unsigned>(id));
    for (unsigned i = 0; i < btf_vlen(t); ++i) {
      std::string n = btf__name_by_offset(b, btf_enum(t)[i].name_off);
      if (n.rfind(prefix, 0) != 0) continue;
      n = n.substr(prefix.size());
      for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back(n);
    }
  }
  btf__free(b);
  return out;
}

inline bool kernel_has_func(const std::string& name) {
  struct btf* b = btf__parse(vmlinux, nullptr);
  if (!b) return false;
  bool has = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_FUNC) > 0;
  btf__free(b);
  return has;
}

// A copy of vmlinux BTF whose bpf_kfunc decl tags are renamed (only the string table changes, so
// every type id stays the kernel's). Returns the number of tag names rewritten.
inline int write_untagged_vmlinux(const std::filesystem::path& out) {
  std::ifstream in(vmlinux, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < sizeof(btf_header)) return -1;
  btf_header h;
  std::memcpy(&h, data.data(), sizeof(h));
  std::size_t start = h.hdr_len + h.str_off, end = start + h.str_len;
  if (h.magic != BTF_MAGIC || end > data.size()) return -1;
  static constexpr char tag[] = "\0bpf_kfunc";  // with its leading NUL: a whole string, not a suffix
  int n = 0;
  for (std::size_t pos = data.find(std::string_view(tag, sizeof(tag)), start); pos != std::string::npos && pos < end;
       pos = data.find(std::string_view(tag, sizeof(tag)), pos + 1)) {
    data[pos + 9] = 'X';  // "bpf_kfunX"
    ++n;
  }
  std::ofstream o(out, std::ios::binary);
  o.write(data.data(), static_cast<std::streamsize>(data.size()));
  return o ? n : -1;
}

// What a probe could leave behind: this process's fds, bpffs entries, and BPF objects named like
// the extended probes name theirs ("bpfpx_"). Other test processes may be probing at the same time,
// so objects are compared again after a pause before a difference counts.
struct leftovers {
  std::set<std::string> fds, pins, named_objects;
  friend bool operator==(const leftovers&, const leftovers&) = default;
};

inline std::set<std::string> dir_entries(const char* path, bool link_targets) {
  std::set<std::string> out;
  DIR* d = opendir(path);
  if (!d) return out;
  int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string entry = e->d_name;
    if (link_targets) {
      if (std::stoi(entry) == own) continue;
      char target[512] = {};
      std::string link = std::string(path) + "/" + entry;
      ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      entry += " -> " + (n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string("?"));
    }
    out.insert(entry);
  }
  closedir(d);
  return out;
}

inline leftovers take_leftovers() {
  leftovers l;
  l.fds = dir_entries("/proc/self/fd", true);
  l.pins = dir_entries("/sys/fs/bpf", false);
  for (auto kind : {sys::object_kind::prog, sys::object_kind::map}) {
    auto ids = sys::object_ids(kind);
    if (!ids) continue;
    for (auto id : ids.value()) {
      auto fd = sys::fd_by_id(kind, id);
      if (!fd) continue;
      char name[BPF_OBJ_NAME_LEN] = {};
      if (kind == sys::object_kind::prog) {
        bpf_prog_info info{};
        if (sys::obj_info(fd.value().get(), info)) std::memcpy(name, info.name, sizeof(name));
      } else {
        bpf_map_info info{};
        if (sys::obj_info(fd.value().get(), info)) std::memcpy(name, info.name, sizeof(name));
      }
      if (std::string_view(name).starts_with("bpfpx_"))
        l.named_objects.insert(std::string(kind == sys::object_kind::prog ? "prog " : "map ") + name + " id " +
                               std::to_string(id));
    }
  }
  return l;
}

inline std::string describe(const leftovers& before, const leftovers& after) {
  std::ostringstream out;
  // Only what is new counts: objects freed meanwhile (the kernel frees them lazily) are not ours.
  auto cmp = [&](const char* what, const std::set<std::string>& a, const std::set<std::string>& b) {
    for (const auto& x : b)
      if (!a.count(x)) out << "new " << what << ": " << x << '\n';
  };
  cmp("fd", before.fds, after.fds);
  cmp("pin", before.pins, after.pins);
  cmp("object", before.named_objects, after.named_objects);
  return out.str();
}

// The difference between `before` and now, empty when nothing was left behind.
inline std::string left_behind(const leftovers& before) {
  std::string d;
  for (int attempt = 0; attempt < 30; ++attempt) {
    d = describe(before, take_leftovers());
    if (d.empty()) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return d;
}

inline const fact* find(const section& s, const std::string& name) { return find_fact(s, name); }

inline const std::string* attr(const fact& f, const std::string& key) {
  for (const auto& [k, v] : f.attrs)
    if (k == key) return &v;
  return nullptr;
}
inline const std::vector<std::string>* list(const fact& f, const std::string& key) {
  for (const auto& [k, v] : f.lists)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace bpfprobe::testing
