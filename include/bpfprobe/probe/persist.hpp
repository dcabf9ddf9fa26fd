// The persistent verdict cache: conclusive verdicts, unknown ones whose cause is in the key
// (stable_causes in persist_key.hpp), and the probed sections of the full report,
// kept in a boot-scoped directory, so a later process on the same kernel, with the same privileges
// and the same catalog, does not probe again.
//
// A file is named after a hash of its key and holds the whole key, checked on every read. The key is
// everything a verdict depends on: the kernel (release, GNU build-id, the size of vmlinux BTF and the
// set of module BTFs, boot_id), the privileges (euid, effective capabilities, lockdown,
// unprivileged_bpf_disabled), the catalog (a hash of the probe headers and fact tables, made at build
// time, and the schema below) and the prober options that change answers. The file is hostile input:
// it is read only when it is a regular file owned by the caller, not group/world-writable and not a
// symlink; every count and index is bounded; anything else makes it ignored (and replaced).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfprobe/probe/persist_format.hpp>
#include <bpfprobe/probe/persist_key.hpp>
#include <bpfprobe/sys/janitor.hpp>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

namespace bpfprobe::probe::persist {

inline constexpr std::size_t max_file_size = 64u << 20;

// Repeats `step(done)`, a read or write of the bytes after the first `done`, until `size` bytes are
// done, it fails or the file ends; EINTR is retried. Returns the bytes done.
template <class Step>
std::size_t transfer_all(std::size_t size, Step step) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = step(done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// The file's bytes when it may be trusted: a regular file (never followed through a symlink) owned by
// the caller, writable by nobody else, of a sane size. nullopt otherwise (or when absent).
inline std::optional<std::string> read_trusted(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 022) == 0 &&
      static_cast<std::uint64_t>(st.st_size) <= max_file_size) {
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got =
        transfer_all(data.size(), [&](std::size_t at) { return ::read(fd, data.data() + at, data.size() - at); });
    if (got == data.size()) out = std::move(data);
  }
  ::close(fd);
  return out;
}

inline std::optional<contents> load(const std::filesystem::path& file, const std::string& key,
                                    bool with_report = true) {
  auto data = read_trusted(file);
  if (!data) return std::nullopt;
  return parse(*data, key, with_report);
}

// The directory exists (made 0700 when absent), is a real directory owned by the caller and writable
// by nobody else.
inline bool usable_dir(const std::filesystem::path& dir) {
  if (dir.empty()) return false;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return false;
  struct stat st {};
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 022) == 0;
}

// Temporary files are named "<temp_prefix><pid>-<start>-<random>" (sys/janitor.hpp's owner tag).
inline constexpr std::string_view temp_prefix = ".tmp-";

// Written to a private temporary file and renamed over the old one: a reader sees the old file or the
// new one, never half of either; two writers at once each leave a whole file (the last one wins). The
// temporary file is claimed with the janitor before it is made, so a process killed between open and
// rename leaves nothing; temporary files of runs that are gone (no janitor either) are swept first.
inline bool store(const std::filesystem::path& file, const std::string& bytes) {
  auto dir = file.parent_path();
  if (!usable_dir(dir)) return false;
  sys::janitor::sweep_dir(dir.string(), temp_prefix, false);
  std::random_device rd;
  std::string tmp =
      (dir / (std::string(temp_prefix) + sys::janitor::owner_tag() + "-" + detail::hex(rd() * 0x9e3779b97f4a7c15ull)))
          .string();
  auto claim = sys::janitor::make_claim(sys::janitor::kind::temp_file, tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t done =
      transfer_all(bytes.size(), [&](std::size_t at) { return ::write(fd, bytes.data() + at, bytes.size() - at); });
  bool ok = done == bytes.size() && ::fchmod(fd, 0600) == 0;
  ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(tmp.c_str(), file.c_str()) == 0) return true;
  ::unlink(tmp.c_str());
  return false;
}

}  // namespace bpfprobe::probe::persist
