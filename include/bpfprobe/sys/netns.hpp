// Private network namespaces for probes and tests. A namespace made here has no name (nothing in
// /run/netns) and lives only as long as something refers to it: the guard's fd, sockets and links
// opened inside it. Network namespaces are per thread, so the guard moves only the calling thread.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

namespace bpfprobe::sys {

// The calling thread's network namespace (not the thread group leader's).
inline result<unique_fd> open_thread_netns() {
  std::string path = "/proc/thread-self/ns/net";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {  // kernels before 3.17 have no /proc/thread-self
    path = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return failure(errno, "open " + path);
  return unique_fd(fd);
}

// Inode number of a namespace fd: what bpf_link_info.netns.netns_ino reports.
inline std::uint64_t netns_inode(int ns_fd) noexcept {
  struct stat st {};
  return ::fstat(ns_fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

// Moves the calling thread into a fresh network namespace; the destructor moves it back. Must be
// destroyed on the thread that made it. Prefer in_private_netns(), which uses a thread of its own
// so that the caller's thread never changes namespace even if restoring fails.
class netns_guard {
 public:
  static result<netns_guard> enter_private() {
    auto original = open_thread_netns();
    if (!original) return original.error();
    if (::unshare(CLONE_NEWNET) != 0) return failure(errno, "unshare(CLONE_NEWNET)");
    netns_guard g;
    g.original_ = std::move(original).value();
    g.tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
    auto own = open_thread_netns();
    if (!own) {
      (void)g.leave();
      return own.error();
    }
    g.private_ = std::move(own).value();
    return g;
  }

  netns_guard(netns_guard&& o) noexcept
      : original_(std::move(o.original_)), private_(std::move(o.private_)), tid_(std::exchange(o.tid_, 0)) {}
  netns_guard& operator=(netns_guard&&) = delete;
  netns_guard(const netns_guard&) = delete;
  ~netns_guard() { (void)leave(); }

  // The private namespace (a target for netns links, or for setns from another thread).
  [[nodiscard]] int fd() const noexcept { return private_.get(); }
  [[nodiscard]] std::uint64_t inode() const noexcept { return netns_inode(private_.get()); }

  // Returns to the original namespace and drops our reference to the private one. Idempotent.
  result<void> leave() {
    if (!original_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    private_.reset();
    if (::setns(original_.get(), CLONE_NEWNET) != 0) return failure(errno, "setns(original netns)");
    original_.reset();
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }

 private:
  netns_guard() = default;
  unique_fd original_, private_;
  pid_t tid_ = 0;
};

// Runs f(const netns_guard&) on a new thread inside a new private network namespace and returns
// what f returns. The namespace, and every device created in it, goes away when f returns and the
// last socket or link fd in it is closed (the kernel tears namespaces down asynchronously).
template <class F>
auto in_private_netns(F&& f) -> result<std::invoke_result_t<F&, const netns_guard&>> {
  using R = std::invoke_result_t<F&, const netns_guard&>;
  std::optional<result<R>> out;
  std::thread worker([&] {
    auto g = netns_guard::enter_private();
    if (!g) {
      out.emplace(g.error());
      return;
    }
    try {
      if constexpr (std::is_void_v<R>) {
        f(g.value());
        out.emplace(BOOST_OUTCOME_V2_NAMESPACE::success());
      } else {
        out.emplace(f(g.value()));
      }
    } catch (const std::exception& e) {
      out.emplace(failure_msg("in_private_netns", e.what()));
    }
    // The thread ends here; the guard restores it anyway so nothing depends on thread exit.
  });
  worker.join();
  return std::move(*out);
}

// Runs f() (returning result<void>) in the network namespace `ns_fd` refers to: on the calling
// thread when it is there already, else on a short-lived thread that joins it first (setns moves
// only that thread). For calls that act wherever the calling thread is, such as libbpf's netlink
// requests, on behalf of something that lives in another namespace.
template <class F>
result<void> in_netns(int ns_fd, F&& f) {
  auto here = open_thread_netns();
  if (here && netns_inode(here.value().get()) == netns_inode(ns_fd)) return f();
  std::optional<result<void>> out;
  try {
    std::thread worker([&] {
      if (::setns(ns_fd, CLONE_NEWNET) != 0) {
        out.emplace(failure(errno, "setns(network namespace)"));
        return;
      }
      try {
        out.emplace(f());
      } catch (const std::exception& e) {
        out.emplace(failure_msg("in_netns", e.what()));
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    return failure(e.code().value(), "std::thread");
  }
  return std::move(*out);
}

}  // namespace bpfprobe::sys
