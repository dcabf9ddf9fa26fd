// perf_event_open wrappers (through the syscall seam) for BPF attach: tracepoints by id from
// tracefs, kprobes/uprobes through their PMUs (4.17+) or through tracefs kprobe_events/uprobe_events,
// and the PERF_EVENT_IOC_* ioctls. Every fd is owned.
#pragma once

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/detached_mount.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/syscalls.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace bpfprobe::sys {

// Reads a whole small file; the error carries errno (tracefs answers EPERM under lockdown for some).
inline result<std::string> read_file_text(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(errno, "open " + path);
  unique_fd guard(fd);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(errno, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

inline result<void> write_file_text(const std::string& path, std::string_view text, int flags = O_WRONLY) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return failure(errno, "open " + path);
  unique_fd guard(fd);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return failure(errno ? errno : EIO, "write " + path);
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

// Where tracefs is. When it is not mounted anywhere, locate() opens a private detached tracefs
// mount (sys/detached_mount.hpp) that no one else sees and that goes with the object or the process
// (note() says so); when that fails too, the error says why.
class tracefs {
 public:
  static result<tracefs> locate(bool mount_if_missing = true) {
    tracefs t;
    if (auto p = mount_point_of("tracefs")) {
      t.path_ = p.value();
      return t;
    }
    if (auto d = mount_point_of("debugfs"); d && ::access((d.value() + "/tracing/events").c_str(), F_OK) == 0) {
      t.path_ = d.value() + "/tracing";
      return t;
    }
    if (!mount_if_missing) return failure_msg("locate tracefs", "tracefs is not mounted", ENOENT);
    auto m = detached_mount::create("tracefs");
    if (!m)
      return failure_msg("mount tracefs", "tracefs is not mounted and a private mount of it failed", m.error().code);
    t.path_ = m.value().path();
    t.private_mount_.emplace(std::move(m).value());
    return t;
  }

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] bool temporary() const noexcept { return private_mount_.has_value(); }
  [[nodiscard]] std::string note() const {
    return temporary() ? "tracefs was not mounted; used a private detached mount of it" : std::string();
  }
  // A file of tracefs as evidence names it: its path, but for the private mount, whose
  // /proc/self/fd/N path differs from run to run, "(private tracefs)/<file>".
  [[nodiscard]] std::string shown(std::string_view file) const {
    return (temporary() ? std::string("(private tracefs)") : path_) + "/" + std::string(file);
  }
  // The numeric id of events/<category>/<name> (a tracepoint, or a kprobe/uprobe event made in tracefs).
  [[nodiscard]] result<std::uint64_t> event_id(std::string_view category, std::string_view name) const {
    std::string file = path_ + "/events/" + std::string(category) + "/" + std::string(name) + "/id";
    auto text = read_file_text(file);
    if (!text) return text.error();
    try {
      return static_cast<std::uint64_t>(std::stoull(text.value()));
    } catch (...) {
      return failure_msg("parse " + file, "not a number", EINVAL);
    }
  }

 private:
  tracefs() = default;
  std::string path_;
  std::optional<detached_mount> private_mount_;
};

// perf_event_open through the seam, with PERF_FLAG_FD_CLOEXEC.
inline result<unique_fd> perf_event_open(perf_event_attr& attr, pid_t pid, int cpu, std::string_view op,
                                         int group_fd = -1) {
  attr.size = sizeof(attr);
  errno = 0;
  long fd = syscalls::active().perf_event_open(&attr, pid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return failure(errno ? errno : EINVAL, std::string(op));
  return unique_fd(static_cast<int>(fd));
}

inline result<void> perf_ioctl(int fd, unsigned long request, unsigned long arg, std::string_view op) {
  errno = 0;
  if (syscalls::active().ioctl(fd, request, arg) < 0) return failure(errno ? errno : EINVAL, std::string(op));
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

// The legacy BPF attach to a perf event: kprobe 4.1, tracepoint 4.7, perf_event programs 4.9.
inline result<void> perf_set_bpf(int perf_fd, int prog_fd) {
  return perf_ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, static_cast<unsigned long>(prog_fd), "PERF_EVENT_IOC_SET_BPF");
}
inline result<void> perf_enable(int perf_fd) {
  return perf_ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0, "PERF_EVENT_IOC_ENABLE");
}

// A tracepoint perf event (system-wide, CPU 0) for tracepoint programs and perf_event links.
inline result<unique_fd> open_tracepoint(std::uint64_t id) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = id;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  return perf_event_open(attr, -1, 0, "perf_event_open(tracepoint " + std::to_string(id) + ")");
}

// A dynamic PMU (kprobe, uprobe): its type number and which config bit asks for a return probe.
struct pmu {
  std::string name;
  std::uint32_t type = 0;
  int retprobe_bit = -1;  // -1 when the PMU has no retprobe format
};

inline result<pmu> find_pmu(std::string_view name) {
  std::string dir = "/sys/bus/event_source/devices/" + std::string(name);
  auto type = read_file_text(dir + "/type");
  if (!type) return type.error();
  pmu p;
  p.name = name;
  try {
    p.type = static_cast<std::uint32_t>(std::stoul(type.value()));
  } catch (...) {
    return failure_msg("parse " + dir + "/type", "not a number", EINVAL);
  }
  // format/retprobe reads "config:0".
  if (auto fmt = read_file_text(dir + "/format/retprobe"); fmt && fmt.value().starts_with("config:")) {
    try {
      p.retprobe_bit = std::stoi(fmt.value().substr(7));
    } catch (...) {
    }
  }
  return p;
}

// A kprobe or uprobe perf event of a probe PMU: `target` (the function or the file) is config1,
// the offset config2. pid -1 with cpu 0: every process (the kernel requires one of the two).
inline result<unique_fd> open_probe_pmu(const pmu& p, std::string_view kind, std::string_view target,
                                        std::uint64_t offset, bool retprobe, pid_t pid) {
  if (retprobe && p.retprobe_bit < 0)
    return failure_msg("open " + std::string(kind), "PMU has no retprobe format", ENOTSUP);
  std::string name(target);
  perf_event_attr attr{};
  attr.type = p.type;
  attr.config = retprobe ? 1ull << p.retprobe_bit : 0;
  attr.config1 = reinterpret_cast<std::uintptr_t>(name.c_str());  // kprobe_func or uprobe_path
  attr.config2 = offset;                                          // probe_offset
  return perf_event_open(attr, pid, pid == -1 ? 0 : -1, "perf_event_open(" + std::string(kind) + " " + name + ")");
}

inline result<unique_fd> open_kprobe(const pmu& p, std::string_view func, std::uint64_t offset = 0,
                                     bool retprobe = false) {
  return open_probe_pmu(p, "kprobe", func, offset, retprobe, -1);
}

// pid -1: every process that maps `path`.
inline result<unique_fd> open_uprobe(const pmu& p, std::string_view path, std::uint64_t offset, bool retprobe = false,
                                     pid_t pid = -1) {
  return open_probe_pmu(p, "uprobe", path, offset, retprobe, pid);
}

// A kprobe or uprobe event made by writing to tracefs kprobe_events / uprobe_events, removed again
// when the object goes, or by the janitor (sys/janitor.hpp) if the process dies first. `definition`
// is what follows "p:group/event " (e.g. "vfs_read" or "/bin/true:0x1040"). The group,
// "bpfprobe_<pid>_<start>", names the owner: events of runs that are gone are swept on first use.
class tracefs_probe_event {
 public:
  enum class kind { kprobe, uprobe };
  static constexpr std::string_view group_prefix = "bpfprobe_";

  static result<tracefs_probe_event> create(const tracefs& fs, kind k, std::string_view definition,
                                            bool retprobe = false) {
    static std::atomic<unsigned> counter{0};
    const char* file = k == kind::kprobe ? "kprobe_events" : "uprobe_events";
    static std::once_flag swept[2];
    std::call_once(swept[k == kind::kprobe ? 0 : 1], [&] { sweep_dead_owners(fs, file); });
    tracefs_probe_event e;
    e.control_ = fs.path() + "/" + file;
    std::string tag = janitor::owner_tag();
    std::replace(tag.begin(), tag.end(), '-', '_');
    e.group_ = std::string(group_prefix) + tag;
    e.event_ = (k == kind::kprobe ? "kp" : "up") + std::to_string(counter.fetch_add(1));
    e.claim_ = janitor::make_claim(janitor::kind::tracefs_event, file, e.group_ + "/" + e.event_);
    std::string line = std::string(retprobe ? "r:" : "p:") + e.group_ + "/" + e.event_ + " " + std::string(definition);
    if (auto r = write_file_text(e.control_, line, O_WRONLY | O_APPEND); !r) {
      e.control_.clear();
      return r.error();
    }
    auto id = fs.event_id(e.group_, e.event_);
    if (!id) return id.error();  // the destructor removes the event
    e.id_ = id.value();
    return e;
  }

  tracefs_probe_event(tracefs_probe_event&& o) noexcept
      : control_(std::exchange(o.control_, {})),
        group_(std::move(o.group_)),
        event_(std::move(o.event_)),
        id_(o.id_),
        claim_(std::move(o.claim_)) {}
  tracefs_probe_event& operator=(tracefs_probe_event&&) = delete;
  tracefs_probe_event(const tracefs_probe_event&) = delete;
  ~tracefs_probe_event() {
    if (!control_.empty() && write_file_text(control_, "-:" + group_ + "/" + event_, O_WRONLY | O_APPEND))
      claim_.release();
  }

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] std::string name() const { return group_ + "/" + event_; }

  // Removes the events of groups "bpfprobe_<pid>_<start>" whose owner no longer runs.
  static void sweep_dead_owners(const tracefs& fs, const char* file) {
    std::string control = fs.path() + "/" + file;
    auto text = read_file_text(control);
    if (!text) return;
    std::istringstream in(text.value());
    std::string line;
    while (std::getline(in, line)) {
      // "p:group/event definition" or "r<n>:group/event definition"
      auto colon = line.find(':'), slash = line.find('/'), space = line.find(' ');
      if (colon == std::string::npos || slash == std::string::npos || slash < colon || space < slash) continue;
      std::string_view group = std::string_view(line).substr(colon + 1, slash - colon - 1);
      if (!group.starts_with(group_prefix) || janitor::owner_alive(group.substr(group_prefix.size()))) continue;
      (void)write_file_text(control, "-:" + line.substr(colon + 1, space - colon - 1), O_WRONLY | O_APPEND);
    }
  }

 private:
  tracefs_probe_event() = default;
  std::string control_, group_, event_;
  std::uint64_t id_ = 0;
  janitor::claim claim_;
};

// A page of x86 NOPs ending in RET (any bytes do for other architectures: nothing executes them)
// in an unnamed in-memory file, for probes that only need a uprobe to be accepted. Nobody maps it,
// so removing the uprobe never has to touch another process's memory (a uprobe on a shared binary,
// removed while its owner is being killed, can be leaked by the kernel: "failed to unregister,
// leaking uprobe"), and the file goes with the fd.
class private_code_file {
 public:
  static result<private_code_file> create() {
    int fd = static_cast<int>(::syscall(SYS_memfd_create, "bpfprobe-uprobe", 1u /* MFD_CLOEXEC */));
    if (fd < 0) fd = ::open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return failure(errno, "memfd_create / O_TMPFILE for a uprobe target");
    private_code_file f;
    f.fd_.reset(fd);
    unsigned char page[4096];
    std::memset(page, 0x90, sizeof(page));
    page[sizeof(page) - 1] = 0xc3;
    if (::write(fd, page, sizeof(page)) != static_cast<ssize_t>(sizeof(page)))
      return failure(errno ? errno : EIO, "write uprobe target file");
    f.path_ = "/proc/self/fd/" + std::to_string(fd);
    return f;
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] static constexpr std::uint64_t offset() noexcept { return 0; }

 private:
  private_code_file() = default;
  unique_fd fd_;
  std::string path_;
};

// Where the code at `addr` lives on disk: the mapped file and the file offset uprobes take.
struct code_location {
  std::string path;
  std::uint64_t offset = 0;
};

inline result<code_location> locate_code(const void* addr) {
  std::ifstream maps("/proc/self/maps");
  if (!maps) return failure(errno ? errno : ENOENT, "open /proc/self/maps");
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long start = 0, end = 0, off = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &path_at) < 4) continue;
    if (a < start || a >= end) continue;
    std::string path = path_at > 0 ? line.substr(static_cast<std::size_t>(path_at)) : std::string();
    if (path.empty() || path.front() != '/')
      return failure_msg("locate code", "address is not in a file mapping", ENOENT);
    return code_location{path, a - start + off};
  }
  return failure_msg("locate code", "address not mapped", ENOENT);
}

}  // namespace bpfprobe::sys
