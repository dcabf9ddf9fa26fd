// What a run of bpfprobe could leave behind in the kernel and the file system, as one comparable
// snapshot: BPF object IDs, cgroups, bpffs pins, tracefs probe events, mounts, network namespace
// names, temp files, janitor processes, and the kernel's "leaking uprobe" complaints.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <bpfprobe/sys/bpf.hpp>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <bpfprobe/sys/perf.hpp>
#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run.hpp"

namespace bpfprobe::testing {

inline std::set<std::string> names_in(const std::string& dir, std::string_view prefix = {}) {
  std::set<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && n.starts_with(prefix)) out.insert(n);
  }
  closedir(d);
  return out;
}

inline std::string text_or_empty(const std::string& path) {
  auto t = sys::read_file_text(path);
  return t ? t.value() : std::string();
}

// Running processes whose name (comm) is `comm` (zombies left out).
inline std::set<std::string> processes_named(std::string_view comm) {
  std::set<std::string> out;
  for (const auto& pid : names_in("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string c = text_or_empty("/proc/" + pid + "/comm");
    if (!c.empty() && c.back() == '\n') c.pop_back();
    if (c != comm) continue;
    // A zombie has finished its work; only its reaper (init, for a janitor) has yet to collect it.
    std::string stat = text_or_empty("/proc/" + pid + "/stat");
    auto paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') continue;
    out.insert(pid);
  }
  return out;
}

// Lines of the kernel log that mention `needle` (empty when the log is not readable).
inline std::size_t kernel_log_lines_with(std::string_view needle) {
  auto r = run({"dmesg"});
  if (r.code != 0) return 0;
  std::size_t n = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

// Mount points of the host's mount namespace (ids and options left out: they are not what leaks).
inline std::multiset<std::string> mount_points() {
  std::multiset<std::string> out;
  std::istringstream in(text_or_empty("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (f >> id >> parent >> dev >> root >> point) out.insert(point);
  }
  return out;
}

struct leftovers {
  std::set<std::uint32_t> progs, maps, links;
  std::set<std::string> cgroups, pins, tmp, run_netns, janitors, cache_temps;
  std::string kprobe_events, uprobe_events;
  std::multiset<std::string> mounts;
  std::size_t leaking_uprobe_lines = 0;

  static leftovers now() {
    leftovers l;
    auto ids = [](sys::object_kind k) {
      auto r = sys::object_ids(k);
      return r ? std::set<std::uint32_t>(r.value().begin(), r.value().end()) : std::set<std::uint32_t>{};
    };
    l.progs = ids(sys::object_kind::prog);
    l.maps = ids(sys::object_kind::map);
    l.links = ids(sys::object_kind::link);
    if (auto cg = sys::cgroup2_mount()) l.cgroups = names_in(cg.value(), "bpfprobe");
    if (auto bpffs = sys::mount_point_of("bpf")) l.pins = names_in(bpffs.value(), "bpfprobe");
    l.tmp = names_in("/tmp", "bpfprobe");
    l.run_netns = names_in("/run/netns");
    // Temporary files of the persistent cache in root's default directory (probe/persist.hpp).
    l.cache_temps = names_in("/run/bpfprobe");
    std::erase_if(l.cache_temps, [](const std::string& n) { return n.find(".tmp") == std::string::npos; });
    l.janitors = processes_named(sys::janitor::process_name);
    if (auto fs = sys::tracefs::locate()) {  // a private mount where none is mounted: events are global
      l.kprobe_events = text_or_empty(fs.value().path() + "/kprobe_events");
      l.uprobe_events = text_or_empty(fs.value().path() + "/uprobe_events");
    }
    l.mounts = mount_points();
    l.leaking_uprobe_lines = kernel_log_lines_with("leaking uprobe");
    return l;
  }

  // What `after` has that this snapshot did not (BPF objects: IDs that are new and still exist).
  [[nodiscard]] std::string added_in(const leftovers& after) const {
    std::ostringstream out;
    auto new_ids = [&](const char* what, const std::set<std::uint32_t>& a, const std::set<std::uint32_t>& b) {
      for (auto id : b)
        if (!a.contains(id)) out << what << " id " << id << "\n";
    };
    auto new_names = [&](const char* what, const std::set<std::string>& a, const std::set<std::string>& b) {
      for (const auto& n : b)
        if (!a.contains(n)) out << what << " " << n << "\n";
    };
    new_ids("prog", progs, after.progs);
    new_ids("map", maps, after.maps);
    new_ids("link", links, after.links);
    new_names("cgroup", cgroups, after.cgroups);
    new_names("bpffs pin", pins, after.pins);
    new_names("/tmp entry", tmp, after.tmp);
    new_names("named netns", run_netns, after.run_netns);
    new_names("cache temporary file", cache_temps, after.cache_temps);
    new_names("janitor process", janitors, after.janitors);
    if (after.kprobe_events != kprobe_events) out << "kprobe_events now:\n" << after.kprobe_events;
    if (after.uprobe_events != uprobe_events) out << "uprobe_events now:\n" << after.uprobe_events;
    if (after.mounts != mounts) {
      for (const auto& m : after.mounts)
        if (after.mounts.count(m) > mounts.count(m)) out << "mount " << m << "\n";
    }
    if (after.leaking_uprobe_lines > leaking_uprobe_lines)
      out << (after.leaking_uprobe_lines - leaking_uprobe_lines) << " new 'leaking uprobe' kernel log lines\n";
    return out.str();
  }
};

// Waits (up to `ms`) until nothing is added relative to `before`; returns what is still added.
// The kernel frees BPF objects and namespaces asynchronously, and a janitor needs a moment.
inline std::string settle(const leftovers& before, int ms = 15000) {
  std::string left;
  for (int waited = 0;; waited += 50) {
    left = before.added_in(leftovers::now());
    if (left.empty() || waited >= ms) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace bpfprobe::testing
