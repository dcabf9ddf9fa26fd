// Reading what bpfprobe_output() sends (bpf/bpfprobe/compat/output.bpf.h): the ring buffer or the
// perf event array of BPFPROBE_OUTPUT_MAP(name, ...), whichever tier the object was configured with.
// Perf records arrive padded to keep 8-byte alignment after their 4-byte size header (a 16-byte
// record is delivered as 20 bytes), so consumers read the record and ignore any tail.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/compat/configure.hpp>
#include <functional>
#include <memory>
#include <span>

namespace bpfprobe::compat {

class output_reader {
 public:
  using callback = std::function<void(std::span<const std::byte>)>;

  // `tier` is BPFPROBE_OUTPUT_RINGBUF, BPFPROBE_OUTPUT_PERF, or AUTO (the ring buffer when the object
  // created one). The object must be loaded.
  static sys::result<output_reader> open(struct bpf_object* obj, std::string_view name, std::uint32_t tier, callback cb,
                                         std::size_t perf_pages = 8) {
    const std::string op = "compat output " + std::string(name);
    // libbpf gives every map a placeholder fd at open; only one it was asked to create is real.
    auto map_fd = [&](const char* suffix) {
      struct bpf_map* m = bpf_object__find_map_by_name(obj, (std::string(name) + suffix).c_str());
      return m && bpf_map__autocreate(m) ? bpf_map__fd(m) : -1;
    };
    int ring_fd = map_fd(BPFPROBE_OUTPUT_RINGBUF_SUFFIX), perf_fd = map_fd(BPFPROBE_OUTPUT_PERF_SUFFIX);
    if (tier == BPFPROBE_TIER_AUTO) tier = ring_fd >= 0 ? BPFPROBE_OUTPUT_RINGBUF : BPFPROBE_OUTPUT_PERF;
    output_reader r;
    r.state_ = std::make_unique<state>();
    r.state_->cb = std::move(cb);
    r.tier_ = tier;
    errno = 0;
    if (tier == BPFPROBE_OUTPUT_RINGBUF) {
      if (ring_fd < 0)
        return sys::failure_msg(op, "no loaded map " + std::string(name) + BPFPROBE_OUTPUT_RINGBUF_SUFFIX, ENOENT);
      r.ring_.reset(ring_buffer__new(ring_fd, on_ring, r.state_.get(), nullptr));
      if (!r.ring_) return sys::failure(errno ? errno : EINVAL, op + ": ring_buffer__new");
    } else if (tier == BPFPROBE_OUTPUT_PERF) {
      if (perf_fd < 0)
        return sys::failure_msg(op, "no loaded map " + std::string(name) + BPFPROBE_OUTPUT_PERF_SUFFIX, ENOENT);
      r.perf_.reset(perf_buffer__new(perf_fd, perf_pages, on_perf, on_lost, r.state_.get(), nullptr));
      if (!r.perf_) return sys::failure(errno ? errno : EINVAL, op + ": perf_buffer__new");
    } else {
      return sys::failure_msg(op, "output tier " + std::to_string(tier) + " has no reader");
    }
    return r;
  }

  static sys::result<output_reader> open(struct bpf_object* obj, std::string_view name, const selection& sel,
                                         callback cb, std::size_t perf_pages = 8) {
    const auto* c = sel.find("output");
    return open(obj, name, c ? c->tier : BPFPROBE_TIER_AUTO, std::move(cb), perf_pages);
  }

  // Waits up to timeout_ms for records and hands each to the callback; returns how many were read.
  sys::result<int> poll(int timeout_ms) {
    int n = ring_ ? ring_buffer__poll(ring_.get(), timeout_ms) : perf_buffer__poll(perf_.get(), timeout_ms);
    if (n < 0 && n != -EINTR) return sys::failure(-n, "compat output poll");
    return n < 0 ? 0 : (ring_ ? n : static_cast<int>(std::exchange(state_->seen, 0)));
  }

  [[nodiscard]] std::uint32_t tier() const noexcept { return tier_; }
  // Records the perf buffer dropped (always 0 for the ring buffer, whose producer sees -ENOSPC).
  [[nodiscard]] std::uint64_t lost() const noexcept { return state_ ? state_->lost : 0; }

 private:
  struct state {
    callback cb;
    std::uint64_t lost = 0;
    std::uint64_t seen = 0;
  };
  struct ring_deleter {
    void operator()(ring_buffer* r) const noexcept { ring_buffer__free(r); }
  };
  struct perf_deleter {
    void operator()(perf_buffer* p) const noexcept { perf_buffer__free(p); }
  };

  static int on_ring(void* ctx, void* data, std::size_t size) {
    static_cast<state*>(ctx)->cb({static_cast<const std::byte*>(data), size});
    return 0;
  }
  static void on_perf(void* ctx, int, void* data, __u32 size) {
    auto* s = static_cast<state*>(ctx);
    ++s->seen;
    s->cb({static_cast<const std::byte*>(data), size});
  }
  static void on_lost(void* ctx, int, __u64 count) { static_cast<state*>(ctx)->lost += count; }

  std::unique_ptr<state> state_;
  std::unique_ptr<ring_buffer, ring_deleter> ring_;
  std::unique_ptr<perf_buffer, perf_deleter> perf_;
  std::uint32_t tier_ = BPFPROBE_TIER_AUTO;
};

}  // namespace bpfprobe::compat
