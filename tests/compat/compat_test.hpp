// Shared by the compat tests: one prober, skeleton loading with forced tiers, libbpf log capture,
// BPF_PROG_TEST_RUN, and the (accessor, tier) parameter lists.
#pragma once

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <bpfprobe/compat/compat.hpp>
#include <cstdarg>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "results.h"

namespace compat_test {

namespace compat = bpfprobe::compat;

// One prober for the whole binary: its cache keeps repeated configure() calls cheap.
inline bpfprobe::prober& shared_prober() {
  static bpfprobe::prober p;
  return p;
}

// libbpf's warnings while one of these is alive (the reason a load failed, in libbpf's words).
class libbpf_log {
 public:
  libbpf_log() {
    text() = "";
    previous_ = libbpf_set_print(&libbpf_log::print);
  }
  ~libbpf_log() { libbpf_set_print(previous_); }
  libbpf_log(const libbpf_log&) = delete;
  libbpf_log& operator=(const libbpf_log&) = delete;
  [[nodiscard]] std::string str() const { return text(); }

 private:
  static std::string& text() {
    static std::string t;
    return t;
  }
  static int print(enum libbpf_print_level level, const char* fmt, va_list ap) {
    if (level == LIBBPF_DEBUG) return 0;
    va_list again;
    va_copy(again, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, ap);
    if (n > 0) {
      std::string line(static_cast<std::size_t>(n) + 1, '\0');
      std::vsnprintf(line.data(), line.size(), fmt, again);
      line.pop_back();
      text() += line;
    }
    va_end(again);
    return 0;
  }
  libbpf_print_fn_t previous_ = nullptr;
};

template <class Skel>
struct loaded {
  std::unique_ptr<Skel, void (*)(Skel*)> skel{nullptr, Skel::destroy};
  compat::selection sel;
  int load_err = 0;
  std::string log;

  [[nodiscard]] const compat::tier_choice& choice(std::string_view accessor) const {
    static const compat::tier_choice none{};
    const auto* c = sel.find(accessor);
    return c ? *c : none;
  }
};

// Opens the skeleton, lets `before` adjust it (autoload, inputs), configures with `force`, loads.
template <class Skel, class Before>
loaded<Skel> open_and_load(const compat::force_map& force, Before&& before) {
  loaded<Skel> l;
  l.skel.reset(Skel::open());
  if (!l.skel) {
    ADD_FAILURE() << "skeleton open failed: " << std::strerror(errno);
    l.load_err = -errno;
    return l;
  }
  before(l.skel.get());
  auto sel = compat::configure(shared_prober(), l.skel.get(), {.force = force});
  if (!sel) {
    ADD_FAILURE() << sel.error().describe();
    l.load_err = -EINVAL;
    return l;
  }
  l.sel = std::move(sel).value();
  libbpf_log log;
  l.load_err = Skel::load(l.skel.get());
  l.log = log.str();
  return l;
}

template <class Skel>
loaded<Skel> open_and_load(const compat::force_map& force = {}) {
  return open_and_load<Skel>(force, [](Skel*) {});
}

// BPF_PROG_TEST_RUN of a loaded program, optionally with a packet. repeat stays 0 (once): raw
// tracepoint runs refuse any other value.
inline bpfprobe::sys::result<std::uint32_t> test_run(const struct bpf_program* prog,
                                                     std::span<const std::byte> packet = {}) {
  auto r = bpfprobe::sys::prog_test_run(bpf_program__fd(prog), {.data_in = packet, .repeat = 0});
  if (!r) ADD_FAILURE() << bpf_program__name(prog) << ": " << r.error().describe();
  return r;
}

struct tier_case {
  std::string accessor;
  std::string tier;
};

inline std::vector<tier_case> tiers_of(std::initializer_list<std::string_view> accessors) {
  std::vector<tier_case> out;
  for (auto name : accessors) {
    const auto* a = compat::find_accessor(name);
    if (!a) continue;
    for (const auto& t : a->tiers) out.push_back({std::string(name), std::string(t.name)});
  }
  return out;
}

inline std::string case_name(const testing::TestParamInfo<tier_case>& info) {
  return info.param.accessor + "_" + info.param.tier;
}

inline void PrintTo(const tier_case& c, std::ostream* os) { *os << c.accessor << "=" << c.tier; }

// The skip every per-tier test makes: the forced tier is one the kernel does not support here.
#define COMPAT_SKIP_UNLESS_SUPPORTED(l, accessor_name)                                                         \
  do {                                                                                                         \
    const auto& c_ = (l).choice(accessor_name);                                                                \
    if (!c_.v.supported())                                                                                     \
      GTEST_SKIP() << (accessor_name) << " tier " << c_.tier_name << " is " << bpfprobe::to_string(c_.v.state) \
                   << " here: " << c_.v.reason;                                                                \
  } while (0)

// A load with the best tiers (nothing forced) must work.
#define COMPAT_REQUIRE_LOADED(l) ASSERT_EQ((l).load_err, 0) << (l).log << compat::to_string((l).sel)

// A load with the best tiers must work; the test then skips unless `accessor_name` is supported here.
#define COMPAT_REQUIRE_BEST(l, accessor_name) \
  COMPAT_REQUIRE_LOADED(l);                   \
  COMPAT_SKIP_UNLESS_SUPPORTED(l, accessor_name)

// A load with one tier forced: skipped unless that tier is supported here, then it must work.
#define COMPAT_REQUIRE_FORCED(l, accessor_name)   \
  COMPAT_SKIP_UNLESS_SUPPORTED(l, accessor_name); \
  COMPAT_REQUIRE_LOADED(l)

// A per-tier test of one skeleton: `best` loaded with the best tiers, `forced` with the parameter's
// tier forced. SetUp skips unless that accessor and tier are supported here, and fails unless both load.
template <class Skel>
class tier_test : public testing::TestWithParam<tier_case> {
 protected:
  void SetUp() override {
    const auto& [accessor, tier] = this->GetParam();
    best = open_and_load<Skel>();
    COMPAT_REQUIRE_BEST(best, accessor);
    forced = open_and_load<Skel>({{accessor, tier}});
    COMPAT_REQUIRE_FORCED(forced, accessor);
  }

  loaded<Skel> best, forced;
};

}  // namespace compat_test
