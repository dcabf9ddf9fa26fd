// The RAII attachment every attach call returns: which path was used, why the others were not, and
// ownership of whatever keeps the program attached. Dropping it detaches (bpf_link fd closed,
// netlink XDP/TC removed, BPF_PROG_DETACH, perf event closed) unless the link was pinned in bpffs.
#pragma once

#include <bpfprobe/sys/link.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bpfprobe::attach {

// One candidate path as the attach call saw it.
struct attempt {
  enum class kind { attached, skipped, failed };
  std::string path;
  kind what = kind::skipped;
  std::string reason;  // what attached, why it was skipped, or the error
  int err = 0;         // errno of a failure
};

constexpr std::string_view to_string(attempt::kind k) noexcept {
  switch (k) {
    case attempt::kind::attached: return "attached";
    case attempt::kind::skipped: return "skipped";
    case attempt::kind::failed: return "failed";
  }
  return "skipped";
}

// "bpf_link: failed (EINVAL ...), fell back; netlink: attached".
inline std::string describe(const std::vector<attempt>& attempts) {
  std::string out;
  for (const auto& a : attempts) {
    if (!out.empty()) out += "; ";
    out += a.path + ": " + std::string(to_string(a.what));
    if (!a.reason.empty()) out += " (" + a.reason + ")";
  }
  return out;
}

namespace detail {

// What keeps one program attached. The destructor detaches (best effort); detach() does it now and
// reports errors.
class hold {
 public:
  virtual ~hold() = default;
  virtual sys::result<void> detach() = 0;
  [[nodiscard]] virtual int fd() const noexcept { return -1; }
  // Pins the bpf_link in bpffs; holds that are not links cannot.
  virtual sys::result<void> pin(const std::string&) {
    return sys::failure_msg("pin", "not a bpf_link: cannot be pinned", EOPNOTSUPP);
  }
  [[nodiscard]] virtual std::string pinned() const { return {}; }
};

// A pin of a bpf_link: removed by detach(), kept when the owner is merely dropped.
class pin_state {
 public:
  sys::result<void> pin(int link_fd, const std::string& path) {
    if (auto r = sys::obj_pin(link_fd, path); !r) return r.error();
    path_ = path;
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }
  sys::result<void> unpin() {
    if (path_.empty()) return BOOST_OUTCOME_V2_NAMESPACE::success();
    std::string p = std::exchange(path_, {});
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return sys::failure(errno, "unlink " + p);
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] bool pinned() const noexcept { return !path_.empty(); }

 private:
  std::string path_;
};

// A bpf_link (or a pre-5.7 raw tracepoint fd): closing the fd detaches, unless it is pinned.
class link_hold final : public hold {
 public:
  explicit link_hold(sys::unique_fd fd) : fd_(std::move(fd)) {}
  sys::result<void> pin(const std::string& path) override { return pin_.pin(fd_.get(), path); }
  sys::result<void> detach() override {
    auto r = pin_.unpin();
    fd_.reset();
    return r;
  }
  [[nodiscard]] int fd() const noexcept override { return fd_.get(); }
  [[nodiscard]] std::string pinned() const override { return pin_.path(); }

 private:
  sys::unique_fd fd_;
  pin_state pin_;
};

}  // namespace detail

class attachment {
 public:
  attachment() = default;
  attachment(std::string hook, std::string path, std::unique_ptr<detail::hold> h, std::vector<attempt> attempts)
      : hook_(std::move(hook)), path_(std::move(path)), hold_(std::move(h)), attempts_(std::move(attempts)) {}
  attachment(attachment&&) noexcept = default;
  attachment& operator=(attachment&&) noexcept = default;
  attachment(const attachment&) = delete;
  attachment& operator=(const attachment&) = delete;
  ~attachment() = default;

  [[nodiscard]] const std::string& hook() const noexcept { return hook_; }
  // The path that attached: "bpf_link", "netlink", "tcx", "prog_attach_multi", "perf_ioctl", ...
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // Every candidate in the order tried, with why it was skipped or failed.
  [[nodiscard]] const std::vector<attempt>& attempts() const noexcept { return attempts_; }
  // Further facts of the attachment: "mode" (XDP), "event_source", "event" (tracefs event), ...
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& details() const noexcept { return details_; }
  [[nodiscard]] std::string detail(std::string_view key) const {
    for (const auto& [k, v] : details_)
      if (k == key) return v;
    return {};
  }
  // The bpf_link fd (link paths) or perf event fd (perf_ioctl); -1 for netlink and PROG_ATTACH.
  [[nodiscard]] int fd() const noexcept { return hold_ ? hold_->fd() : -1; }
  // Where the link is pinned, or empty.
  [[nodiscard]] std::string pinned() const { return hold_ ? hold_->pinned() : std::string(); }
  [[nodiscard]] bool attached() const noexcept { return hold_ != nullptr; }
  explicit operator bool() const noexcept { return attached(); }

  // Detaches now (and removes the pin, if any), reporting errors the destructor would swallow.
  sys::result<void> detach() {
    if (!hold_) return BOOST_OUTCOME_V2_NAMESPACE::success();
    auto r = hold_->detach();
    hold_.reset();
    return r;
  }

  // Used by the attach functions.
  void add_detail(std::string key, std::string value) { details_.emplace_back(std::move(key), std::move(value)); }
  [[nodiscard]] detail::hold* holder() const noexcept { return hold_.get(); }

 private:
  std::string hook_, path_;
  std::unique_ptr<detail::hold> hold_;
  std::vector<attempt> attempts_;
  std::vector<std::pair<std::string, std::string>> details_;
};

// Removes a pin made with policy::pin (the link detaches when nothing else holds it).
inline sys::result<void> unpin(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return sys::failure(errno, "unlink " + path);
  return BOOST_OUTCOME_V2_NAMESPACE::success();
}

}  // namespace bpfprobe::attach
