// A bpffs directory for a test's pins: the mounted bpffs, or where none is mounted a private detached
// bpffs (sys/detached_mount.hpp) that lives as long as this object, so pin tests run either way.
// A child forked while it lives reaches the same mount by the same path.
#pragma once

#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/detached_mount.hpp>
#include <optional>
#include <string>

namespace bpfprobe::testing {

class pin_dir {
 public:
  static sys::result<pin_dir> open() {
    pin_dir d;
    if (auto m = sys::mount_point_of("bpf")) {
      d.path_ = m.value();
      return d;
    }
    auto m = sys::detached_mount::create("bpf");
    if (!m) return m.error();
    d.path_ = m.value().path();
    d.private_.emplace(std::move(m).value());
    return d;
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  pin_dir() = default;
  std::string path_;
  std::optional<sys::detached_mount> private_;
};

}  // namespace bpfprobe::testing
