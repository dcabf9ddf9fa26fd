// A filesystem instance mounted nowhere (fsopen + fsmount, 5.2): reachable only through its fd, as
// "/proc/self/fd/N/...", and gone when the fd is closed - also when the process is killed. Used
// where tracefs is not mounted and for a private bpffs whose pins die with us.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <string>
#include <string_view>

namespace bpfprobe::sys {

class detached_mount {
 public:
  static result<detached_mount> create(std::string_view fstype) {
#if defined(SYS_fsopen) && defined(SYS_fsconfig) && defined(SYS_fsmount)
    std::string type(fstype);
    unique_fd fs(static_cast<int>(::syscall(SYS_fsopen, type.c_str(), 1 /* FSOPEN_CLOEXEC */)));
    if (!fs) return failure(errno, "fsopen(" + type + ")");
    if (::syscall(SYS_fsconfig, fs.get(), 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) != 0)
      return failure(errno, "fsconfig(" + type + ", FSCONFIG_CMD_CREATE)");
    int mnt = static_cast<int>(::syscall(SYS_fsmount, fs.get(), 1 /* FSMOUNT_CLOEXEC */, 0));
    if (mnt < 0) return failure(errno, "fsmount(" + type + ")");
    detached_mount m;
    m.fd_.reset(mnt);
    m.path_ = "/proc/self/fd/" + std::to_string(mnt);
    return m;
#else
    return failure_msg("fsopen(" + std::string(fstype) + ")", "built without the mount API", ENOSYS);
#endif
  }

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // A path to the mount's root valid in this process (and in a child forked while it is open).
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  detached_mount() = default;
  unique_fd fd_;
  std::string path_;
};

}  // namespace bpfprobe::sys
