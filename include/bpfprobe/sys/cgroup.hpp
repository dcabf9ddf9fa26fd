// Temporary cgroup v2 directories for cgroup attach probes. The cgroup2 mount is found in
// /proc/self/mountinfo (it is /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bpfprobe/sys/janitor.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace bpfprobe::sys {

// mountinfo escapes space, tab, newline and backslash as \ooo.
inline std::string unescape_mount_path(std::string_view s) {
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

// The first mount point of filesystem type `fstype` in mountinfo text, or empty.
inline std::string find_mount(std::string_view mountinfo, std::string_view fstype) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string type;
    tail >> type;
    if (type != fstype) continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, point;
    if (head >> id >> parent >> dev >> root >> point) return unescape_mount_path(point);
  }
  return {};
}

inline result<std::string> mount_point_of(std::string_view fstype) {
  std::ifstream f("/proc/self/mountinfo");
  if (!f) return failure(errno ? errno : ENOENT, "open /proc/self/mountinfo");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string point = find_mount(text, fstype);
  if (point.empty()) return failure_msg("find " + std::string(fstype) + " mount", "not mounted", ENOENT);
  return point;
}

inline result<std::string> cgroup2_mount() { return mount_point_of("cgroup2"); }

// A fresh empty cgroup under the cgroup2 root, removed (rmdir) when the object goes - or by the
// janitor (sys/janitor.hpp) if the process dies first. Its name, "bpfprobe-<pid>-<start>-<n>[-tag]",
// lets the next run sweep it if both died. Nothing is moved into it; attach BPF to it through fd()
// and detach before it goes away (RAII order: create the cgroup first, attachments after).
class temp_cgroup {
 public:
  static constexpr std::string_view name_prefix = "bpfprobe-";

  static result<temp_cgroup> create(std::string_view tag = "bpfprobe") {
    auto root = cgroup2_mount();
    if (!root) return root.error();
    static std::once_flag swept;
    std::call_once(swept, [&] { janitor::sweep_dir(root.value(), name_prefix, true); });
    static std::atomic<unsigned> counter{0};
    temp_cgroup cg;
    cg.path_ = root.value() + "/" + std::string(name_prefix) + janitor::owner_tag() + "-" +
               std::to_string(counter.fetch_add(1)) + (tag == "bpfprobe" ? "" : "-" + std::string(tag));
    cg.claim_ = janitor::make_claim(janitor::kind::cgroup_dir, cg.path_);
    if (::mkdir(cg.path_.c_str(), 0755) != 0) {
      int err = errno;
      cg.path_.clear();
      return failure(err, "mkdir cgroup under " + root.value());
    }
    int fd = ::open(cg.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return failure(errno, "open " + cg.path_);
    cg.fd_.reset(fd);
    return cg;
  }

  temp_cgroup(temp_cgroup&& o) noexcept
      : path_(std::exchange(o.path_, {})), fd_(std::move(o.fd_)), claim_(std::move(o.claim_)) {}
  temp_cgroup& operator=(temp_cgroup&&) = delete;
  temp_cgroup(const temp_cgroup&) = delete;
  ~temp_cgroup() { (void)remove(); }

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // The cgroup id BPF reports (bpf_link_info.cgroup.cgroup_id): the directory's inode on cgroup2.
  [[nodiscard]] std::uint64_t id() const noexcept {
    struct stat st {};
    return ::fstat(fd_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
  }

  // rmdir; retried briefly because a cgroup that just lost its last task can report EBUSY.
  result<void> remove() {
    fd_.reset();
    if (path_.empty()) return BOOST_OUTCOME_V2_NAMESPACE::success();
    for (int attempt = 0;; ++attempt) {
      if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || attempt >= 50) return failure(errno, "rmdir " + path_);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    path_.clear();
    claim_.release();
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }

 private:
  temp_cgroup() = default;
  std::string path_;
  unique_fd fd_;
  janitor::claim claim_;
};

}  // namespace bpfprobe::sys
