// The one seam between bpfprobe and the kernel. Every bpf(2) and perf_event_open(2) call, and every
// rtnetlink request, goes through syscalls::active(), so tests can install an override that injects
// errors.
#pragma once

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace bpfprobe::sys {

class syscalls {
 public:
  virtual ~syscalls() = default;

  // Raw bpf(2): returns the syscall's value, or -1 with errno set.
  virtual long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept {
    return ::syscall(__NR_bpf, cmd, attr, size);
  }
  virtual long perf_event_open(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags) noexcept {
    return ::syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
  }
  virtual int ioctl(int fd, unsigned long request, unsigned long arg) noexcept { return ::ioctl(fd, request, arg); }
  // A request on a netlink socket (sys/netlink.hpp): one message of `len` bytes.
  virtual long sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                      socklen_t tolen) noexcept {
    return ::sendto(fd, buf, len, flags, to, tolen);
  }

  // The implementation every call uses now.
  static syscalls& active() noexcept { return *current().load(std::memory_order_acquire); }

  static syscalls& real() noexcept {
    static syscalls instance;
    return instance;
  }

 private:
  friend class scoped_syscalls;
  static std::atomic<syscalls*>& current() noexcept {
    static std::atomic<syscalls*> ptr{&real()};
    return ptr;
  }
};

// Installs an override for its lifetime (tests). Not reentrant across threads by design: tests
// install one before probing and remove it after.
class scoped_syscalls {
 public:
  explicit scoped_syscalls(syscalls& replacement) noexcept
      : previous_(syscalls::current().exchange(&replacement, std::memory_order_acq_rel)) {}
  scoped_syscalls(const scoped_syscalls&) = delete;
  scoped_syscalls& operator=(const scoped_syscalls&) = delete;
  ~scoped_syscalls() { syscalls::current().store(previous_, std::memory_order_release); }

 private:
  syscalls* previous_;
};

}  // namespace bpfprobe::sys
