// Cleanup that outlives a killed process. A few things a probe makes are kept by the kernel after
// every fd is closed: a cgroup directory, a tracefs probe event, a pin on the system bpffs. Each is
// claimed here *before* it is made and released after it is removed. The first claim starts a
// janitor: a small process (detached from us by a double fork) that blocks on a pipe only this
// process writes to. When this process goes - normal exit, SIGKILL, OOM, a crash - the pipe reports
// EOF and the janitor removes whatever is still claimed, then exits; when the last claim is
// released we close the pipe and the janitor exits at once. Names carry the owner's pid and start
// time, so what a run left when its janitor could not clean (both killed at once) is swept by the
// next run that makes the same kind of thing, and never what a live run owns.
//
// The claim table lives in shared anonymous memory, so the janitor sees claims made after it
// started; it runs only system calls (it is forked from a threaded process).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <bpfprobe/sys/fork_gate.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

namespace bpfprobe::sys::janitor {

enum class kind : std::uint32_t { cgroup_dir = 1, bpffs_pin = 2, tracefs_event = 3, temp_file = 4 };

// What the janitor process calls itself (its comm: at most 15 characters).
inline constexpr const char* process_name = "bpfprobe-clean";

namespace detail {

inline constexpr std::size_t slot_count = 128;

struct slot {
  std::atomic<std::uint32_t> state;  // 0 free, 1 being written, 2 claimed
  kind what;
  char path[384];  // cgroup directory or pin path; for tracefs events the control file's name
  char event[96];  // tracefs "group/event"
};

struct table {
  slot slots[slot_count];
};

// The janitor's side runs in processes made by raw clone() from a threaded (maybe sanitized)
// process: it makes system calls directly, never through libc wrappers that a sanitizer intercepts
// (an interceptor may wait for a lock another thread held at the clone, forever).
template <class... A>
inline long sc(long nr, A... args) {
  return ::syscall(nr, args...);
}

inline std::size_t c_len(const char* s) {
  std::size_t n = 0;
  while (s[n]) ++n;
  return n;
}

inline void c_copy(char* dst, const char* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
}

inline int sc_open(int dir, const char* path, int flags) {
  return static_cast<int>(sc(SYS_openat, dir, path, flags | O_CLOEXEC, 0));
}

// Where tracefs is for the janitor: a mounted copy, else a private detached mount of its own.
inline int janitor_open_tracefs_file(const char* name) {
  char path[160];
  for (const char* dir : {"/sys/kernel/tracing/", "/sys/kernel/debug/tracing/"}) {
    std::size_t n = c_len(dir), m = c_len(name);
    if (n + m + 1 > sizeof(path)) continue;
    c_copy(path, dir, n);
    c_copy(path + n, name, m + 1);
    int fd = sc_open(AT_FDCWD, path, O_WRONLY | O_APPEND);
    if (fd >= 0) return fd;
  }
#if defined(SYS_fsopen) && defined(SYS_fsmount)
  int fs = static_cast<int>(sc(SYS_fsopen, "tracefs", 1 /* FSOPEN_CLOEXEC */));
  if (fs < 0) return -1;
  int fd = -1;
  if (sc(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, nullptr, nullptr, 0) == 0) {
    int mnt = static_cast<int>(sc(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0));
    if (mnt >= 0) {
      fd = sc_open(mnt, name, O_WRONLY | O_APPEND);
      sc(SYS_close, mnt);
    }
  }
  sc(SYS_close, fs);
  return fd;
#else
  return -1;
#endif
}

inline void nap_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &ts) != 0 && errno == EINTR) {
  }
}

// Removes one claimed thing; EBUSY (a dying process's perf event or task still holds it) is
// retried for a few seconds.
inline void janitor_remove(const slot& s) {
  for (int attempt = 0; attempt < 250; ++attempt) {
    long rc = 0;
    switch (s.what) {
      case kind::cgroup_dir: rc = sc(SYS_unlinkat, AT_FDCWD, s.path, AT_REMOVEDIR); break;
      case kind::bpffs_pin:
      case kind::temp_file: rc = sc(SYS_unlinkat, AT_FDCWD, s.path, 0); break;
      case kind::tracefs_event: {
        int fd = janitor_open_tracefs_file(s.path);
        if (fd < 0) return;
        char line[128] = "-:";
        std::size_t n = c_len(s.event);
        if (n + 3 > sizeof(line)) n = sizeof(line) - 3;
        c_copy(line + 2, s.event, n);
        rc = sc(SYS_write, fd, line, n + 2) < 0 ? -1 : 0;
        int err = errno;
        sc(SYS_close, fd);
        errno = err;
        break;
      }
    }
    if (rc == 0 || errno != EBUSY) return;
    nap_ms(20);
  }
}

[[noreturn]] inline void janitor_main(table* t, int rd) {
  char buf[16];
  for (;;) {
    long n = sc(SYS_read, rd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  for (auto& s : t->slots)
    if (s.state.load(std::memory_order_acquire) == 2) janitor_remove(s);
  sc(SYS_exit_group, 0);
  __builtin_unreachable();
}

inline void close_all_but(int keep) {
#ifdef SYS_close_range
  bool ok = (keep == 0 || sc(SYS_close_range, 0u, static_cast<unsigned>(keep - 1), 0u) == 0) &&
            sc(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
  if (ok) return;
#endif
  for (int fd = 0; fd < 65536; ++fd)
    if (fd != keep) sc(SYS_close, fd);
}

// Double fork: the janitor is nobody's child we could be asked to wait for, is in its own session
// (a terminal's ^C does not reach it) and back in the process's own network namespace (the
// claiming thread may be inside a private one, which the janitor must not keep alive). Raw clones:
// no atfork handler of the application runs.
inline bool spawn(table* t, int rd, int wr, int netns_fd) {
  fork_guard forking(fork_gate());
  long mid = sc(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (mid != 0) forking.unlock();
  if (mid < 0) return false;
  if (mid == 0) {
    sc(SYS_setsid);
    long pid = sc(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid != 0) sc(SYS_exit_group, pid > 0 ? 0 : 1);
    sc(SYS_close, wr);
    if (netns_fd >= 0) sc(SYS_setns, netns_fd, CLONE_NEWNET);
    // Keep nothing of the parent's open: its BPF links and programs must go when it closes them.
    close_all_but(rd);
    // Deaf to the signals a terminal or a service manager sends a group: it ends by itself at EOF.
    std::uint64_t blocked = 0;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) blocked |= 1ull << (sig - 1);
    sc(SYS_rt_sigprocmask, SIG_SETMASK, &blocked, nullptr, sizeof(blocked));
    sc(SYS_prctl, PR_SET_NAME, process_name, 0, 0, 0);
    sc(SYS_chdir, "/");
    janitor_main(t, rd);
  }
  int st = 0;
  while (::waitpid(static_cast<pid_t>(mid), &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

struct registry {
  std::mutex mu;
  table* t = nullptr;
  int wr = -1;  // our end of the janitor's pipe; closed when no claim is live
  unsigned live = 0;

  static registry& get() {
    static registry r;
    return r;
  }

  // Lets the janitor go when nothing is claimed: EOF makes it exit. Its claim table goes with it (it
  // keeps its own mapping): a janitor still waking up must never see the claims of the next one.
  void dismiss() {
    if (wr >= 0) ::close(wr);
    wr = -1;
    if (t) ::munmap(t, sizeof(table));
    t = nullptr;
  }

  // Starts a janitor if none is running. Without one (fork refused), claims still work: the
  // owner's destructors clean up on every normal path and the next run sweeps.
  void ensure_janitor() {
    if (!t) {
      void* mem = ::mmap(nullptr, sizeof(table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) return;
      t = new (mem) table{};
    }
    if (wr >= 0) return;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    int netns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (spawn(t, p[0], p[1], netns)) {
      wr = p[1];
    } else {
      ::close(p[1]);
    }
    ::close(p[0]);
    if (netns >= 0) ::close(netns);
  }
};

inline void copy_field(char* dst, std::size_t cap, std::string_view src) {
  dst[src.copy(dst, cap - 1)] = '\0';  // copy(): an empty view may have a null data()
}

}  // namespace detail

// A claim on one thing to remove if this process dies before it does. Released (and the janitor
// told nothing more is owed) by release() or the destructor: call release() after removing it.
class claim {
 public:
  claim() = default;
  claim(claim&& o) noexcept : slot_(std::exchange(o.slot_, nullptr)) {}
  claim& operator=(claim&& o) noexcept {
    if (this != &o) {
      release();
      slot_ = std::exchange(o.slot_, nullptr);
    }
    return *this;
  }
  claim(const claim&) = delete;
  claim& operator=(const claim&) = delete;
  ~claim() { release(); }

  void release() noexcept {
    if (!slot_) return;
    auto& r = detail::registry::get();
    std::lock_guard lock(r.mu);
    slot_->state.store(0, std::memory_order_release);
    slot_ = nullptr;
    if (--r.live == 0) r.dismiss();
  }

 private:
  friend claim make_claim(kind, std::string_view, std::string_view);
  detail::slot* slot_ = nullptr;
};

// Claims `path` (cgroup directory, pin) or a tracefs event (`path` = "kprobe_events" or
// "uprobe_events", `event` = "group/event"). An unguarded claim (no janitor could be started, or
// the table is full) is still a valid object: cleanup then rests on the owner and the next sweep.
inline claim make_claim(kind what, std::string_view path, std::string_view event = {}) {
  claim c;
  auto& r = detail::registry::get();
  std::lock_guard lock(r.mu);
  r.ensure_janitor();
  if (!r.t || r.wr < 0) return c;
  for (auto& s : r.t->slots) {
    std::uint32_t expected = 0;
    if (!s.state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
    s.what = what;
    detail::copy_field(s.path, sizeof(s.path), path);
    detail::copy_field(s.event, sizeof(s.event), event);
    s.state.store(2, std::memory_order_release);
    c.slot_ = &s;
    ++r.live;
    return c;
  }
  if (r.live == 0) r.dismiss();  // nothing claimed after all
  return c;
}

// ---- owner names: "<pid>-<start time>", so a sweep can tell a dead owner from a live one ----

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or 0.
inline std::uint64_t start_time_of(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  char buf[1024];
  ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
  if (n <= 0) return 0;
  std::string_view text(buf, static_cast<std::size_t>(n));
  auto close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos) return 0;
  text.remove_prefix(close_paren + 2);  // ") " then field 3
  for (int field = 3; field < 22; ++field) {
    auto sp = text.find(' ');
    if (sp == std::string_view::npos) return 0;
    text.remove_prefix(sp + 1);
  }
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// This process's owner tag, "<pid>-<start time>" (computed per call: a fork gets its own).
inline std::string owner_tag() { return std::to_string(::getpid()) + "-" + std::to_string(start_time_of(::getpid())); }

// Is the owner named by "<pid>-<start>..." (the text after a name's prefix; '_' separates in
// tracefs group names) still running? Names of older versions carry the pid alone. A tag that does
// not parse is treated as alive: a sweep never removes what it cannot attribute.
inline bool owner_alive(std::string_view tag) {
  pid_t pid = 0;
  std::uint64_t start = 0;
  const char* end = tag.data() + tag.size();
  auto [p, ec] = std::from_chars(tag.data(), end, pid);
  if (ec != std::errc{} || pid <= 0) return true;
  if (p != end) {
    if (*p != '-' && *p != '_') return true;
    if (std::from_chars(p + 1, end, start).ec != std::errc{}) return true;
  }
  if (start == 0) return ::kill(pid, 0) == 0 || errno == EPERM;  // the owner could not read its start time
  std::uint64_t now = start_time_of(pid);
  return now != 0 && now == start;
}

// Removes what runs that are gone left under `dir`: entries named "<prefix><pid>-<start>-..." whose
// owner no longer runs (rmdir for directories, unlink for files). Entries of live runs stay.
inline void sweep_dir(const std::string& dir, std::string_view prefix, bool directories) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (!name.starts_with(prefix) || owner_alive(name.substr(prefix.size()))) continue;
    std::string path = dir + "/" + std::string(name);
    (void)(directories ? ::rmdir(path.c_str()) : ::unlink(path.c_str()));
  }
  ::closedir(d);
}

}  // namespace bpfprobe::sys::janitor
