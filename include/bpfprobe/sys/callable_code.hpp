// A function of this process that only this process maps: two instructions ("nop; ret") in an
// unnamed in-memory file, mapped executable and not inherited by forked children. A uprobe on it fires when we call it
// and touches no other process's memory.
//
// The kernel leaks a uprobe ("failed to unregister, leaking uprobe") when it cannot write the original
// instruction back into a live mapping, which is what happens when the task removing it has a fatal
// signal pending: a SIGKILL during the uprobe's registration (the kernel then rolls the registration
// back) or during its removal. So the file exists unmapped first: put the uprobe on it, then map()
// (the kernel plants the breakpoint at mmap), call function(), unmap(), and only then remove the
// uprobe. Registration and removal then find no mapping to write to, and cannot fail. The mapping
// goes with the object, the file with its fd, and both with the process.
#pragma once

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfprobe/sys/fork_gate.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace bpfprobe::sys {

class callable_code {
 public:
  static result<callable_code> create() {
#if defined(__x86_64__) || defined(__i386__)
    static constexpr unsigned char code[] = {0x90, 0xc3};  // nop; ret
#elif defined(__aarch64__)
    static constexpr unsigned char code[] = {0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6};  // nop; ret
#else
    return failure_msg("callable code", "no instructions known for this architecture", ENOTSUP);
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
    // MFD_EXEC (6.3) keeps the file executable where vm.memfd_noexec would seal it; older kernels
    // refuse the flag (EINVAL) and make executable memfds anyway.
    int fd =
        static_cast<int>(::syscall(SYS_memfd_create, "bpfprobe-calib", 1u /* MFD_CLOEXEC */ | 0x10u /* MFD_EXEC */));
    if (fd < 0 && errno == EINVAL) fd = static_cast<int>(::syscall(SYS_memfd_create, "bpfprobe-calib", 1u));
    if (fd < 0) return failure(errno, "memfd_create for callable code");
    callable_code c;
    c.fd_.reset(fd);
    long page = ::sysconf(_SC_PAGESIZE);
    c.size_ = page > 0 ? static_cast<std::size_t>(page) : 4096;
    std::string bytes(c.size_, '\0');
    std::memcpy(bytes.data(), code, sizeof(code));
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
      return failure(errno ? errno : EIO, "write callable code");
    c.path_ = "/proc/self/fd/" + std::to_string(fd);
    return c;
#endif
  }

  callable_code(callable_code&& o) noexcept
      : fd_(std::move(o.fd_)), path_(std::move(o.path_)), at_(std::exchange(o.at_, nullptr)), size_(o.size_) {}
  callable_code& operator=(callable_code&&) = delete;
  callable_code(const callable_code&) = delete;
  ~callable_code() { unmap(); }

  // Maps the code executable (once). Children forked meanwhile (the janitor, a probe's helper child)
  // must not inherit the mapping: a uprobe's breakpoint would then be in their memory too.
  result<void> map() {
    if (at_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    mapping_guard no_fork(fork_gate());
    void* at = ::mmap(nullptr, size_, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd_.get(), 0);
    if (at == MAP_FAILED) return failure(errno, "mmap callable code executable");
    if (::madvise(at, size_, MADV_DONTFORK) != 0) {
      int e = errno;
      ::munmap(at, size_);
      return failure(e, "madvise(MADV_DONTFORK) callable code");
    }
    at_ = at;
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }

  // Unmaps the code now. Done before a uprobe on it is removed: the kernel then has no page of ours
  // to restore, and the removal cannot fail if we are being killed meanwhile (with a fatal signal
  // pending, writing the original instruction back into a live mapping fails: "leaking uprobe").
  void unmap() noexcept {
    if (at_) ::munmap(std::exchange(at_, nullptr), size_);
  }

  // The file a uprobe names ("/proc/self/fd/N") and the offset of the function in it.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] static constexpr std::uint64_t offset() noexcept { return 0; }
  // The function, once mapped (null before map() and after unmap()).
  [[nodiscard]] void (*function() const noexcept)() { return reinterpret_cast<void (*)()>(at_); }

 private:
  callable_code() = default;
  unique_fd fd_;
  std::string path_;
  void* at_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bpfprobe::sys
