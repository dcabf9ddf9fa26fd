// Output from programs to user space: a BPF ring buffer (5.8) or, before it, a perf event array
// with one perf buffer per CPU. The channel makes the map of the chosen path and a consumer for it
// (libbpf's ring_buffer / perf_buffer); the program must then write with the matching helper:
// bpf_ringbuf_output (path "ringbuf") or bpf_perf_event_output with BPF_F_CURRENT_CPU
// (path "perf_event_array").
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/attach/fallback.hpp>
#include <bpfprobe/decide/facts.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <cstddef>
#include <functional>
#include <span>

namespace bpfprobe::attach {

using record_fn = std::function<void(std::span<const std::byte>)>;

namespace detail {

class output_hold final : public hold {
 public:
  record_fn on_record;
  std::uint64_t lost = 0;
  sys::unique_fd map;
  ring_buffer* rb = nullptr;
  perf_buffer* pb = nullptr;

  ~output_hold() override { (void)detach(); }
  sys::result<void> detach() override {
    if (rb) ring_buffer__free(std::exchange(rb, nullptr));
    if (pb) perf_buffer__free(std::exchange(pb, nullptr));
    map.reset();
    return BOOST_OUTCOME_V2_NAMESPACE::success();
  }
  [[nodiscard]] int fd() const noexcept override { return map.get(); }

  // A hold that passes records to ON_RECORD from a new map made with ARGS, read by the consumer
  // CONSUME puts on it (false: libbpf's WHAT failed, errno says why).
  template <class Consume>
  static sys::result<std::unique_ptr<hold>> make(record_fn on_record, const sys::map_create_args& args,
                                                 const char* what, Consume consume) {
    auto h = std::make_unique<output_hold>();
    h->on_record = std::move(on_record);
    auto map = sys::map_create(args);
    if (!map) return map.error();
    h->map = std::move(map).value();
    errno = 0;
    if (!consume(*h)) return sys::failure(errno ? errno : EINVAL, what);
    return std::unique_ptr<hold>(std::move(h));
  }

  static int ring_sample(void* ctx, void* data, std::size_t size) {
    auto* self = static_cast<output_hold*>(ctx);
    if (self->on_record) self->on_record({static_cast<const std::byte*>(data), size});
    return 0;
  }
  static void perf_sample(void* ctx, int, void* data, std::uint32_t size) {
    auto* self = static_cast<output_hold*>(ctx);
    if (self->on_record) self->on_record({static_cast<const std::byte*>(data), size});
  }
  static void perf_lost(void* ctx, int, __u64 count) { static_cast<output_hold*>(ctx)->lost += count; }
};

inline std::size_t round_pow2_pages(std::size_t bytes) {
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t n = page;
  while (n < bytes) n <<= 1;
  return n;
}

}  // namespace detail

class output {
 public:
  // `bytes`: the ring buffer's size, or each CPU's perf buffer size (both rounded up to a power of
  // two pages).
  static sys::result<output> open(const decide::choice& c, record_fn on_record, std::size_t bytes = 64 * 1024,
                                  const policy& pol = {}) {
    std::size_t size = detail::round_pow2_pages(bytes);
    std::vector<step> steps;
    // EINVAL: no ring buffer map type (before 5.8).
    steps.push_back({std::string(decide::path::ringbuf), {}, false, classify::not_supported_here, [&](attachment&) {
                       return detail::output_hold::make(
                           on_record,
                           {.type = BPF_MAP_TYPE_RINGBUF,
                            .key_size = 0,
                            .value_size = 0,
                            .max_entries = static_cast<std::uint32_t>(size),
                            .name = "bpfprobe_out"},
                           "ring_buffer__new", [](detail::output_hold& h) {
                             h.rb = ring_buffer__new(h.map.get(), &detail::output_hold::ring_sample, &h, nullptr);
                             return h.rb != nullptr;
                           });
                     }});
    steps.push_back({std::string(decide::path::perf_event_array),
                     {},
                     false,
                     {},
                     [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                       int cpus = libbpf_num_possible_cpus();
                       if (cpus <= 0) return sys::failure(-cpus, "libbpf_num_possible_cpus");
                       std::size_t pages = size / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
                       return detail::output_hold::make(on_record,
                                                        {.type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
                                                         .key_size = 4,
                                                         .value_size = 4,
                                                         .max_entries = static_cast<std::uint32_t>(cpus),
                                                         .name = "bpfprobe_out"},
                                                        "perf_buffer__new", [pages](detail::output_hold& h) {
                                                          h.pb = perf_buffer__new(
                                                              h.map.get(), pages, &detail::output_hold::perf_sample,
                                                              &detail::output_hold::perf_lost, &h, nullptr);
                                                          return h.pb != nullptr;
                                                        });
                     }});
    auto a = carry_out(c, pol, std::move(steps));
    if (!a) return a.error();
    output o;
    o.a_ = std::move(a).value();
    return o;
  }

  static sys::result<output> open(prober& p, std::string_view prog_type, record_fn on_record,
                                  std::size_t bytes = 64 * 1024, const policy& pol = {}) {
    return open(decide::output(decide::from(p), prog_type), std::move(on_record), bytes, pol);
  }

  // "ringbuf" or "perf_event_array": which helper the program must call.
  [[nodiscard]] const std::string& path() const noexcept { return a_.path(); }
  [[nodiscard]] int map_fd() const noexcept { return a_.fd(); }
  [[nodiscard]] const std::vector<attempt>& attempts() const noexcept { return a_.attempts(); }
  [[nodiscard]] std::uint64_t lost() const noexcept { return state() ? state()->lost : 0; }

  // Waits up to timeout_ms for records and hands each to the callback; returns how many.
  sys::result<int> poll(int timeout_ms) {
    auto* s = state();
    if (!s) return sys::failure_msg("output poll", "closed", EBADF);
    int n = s->rb ? ring_buffer__poll(s->rb, timeout_ms) : perf_buffer__poll(s->pb, timeout_ms);
    if (n < 0 && n != -EINTR) return sys::failure(-n, s->rb ? "ring_buffer__poll" : "perf_buffer__poll");
    return n < 0 ? 0 : n;
  }

 private:
  output() = default;
  [[nodiscard]] detail::output_hold* state() const noexcept { return static_cast<detail::output_hold*>(a_.holder()); }
  attachment a_;
};

}  // namespace bpfprobe::attach
