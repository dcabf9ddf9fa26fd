// bpfprobe_loop, once per tier: the number of callback calls and what the callback computed must be
// those of the best tier, and both what a plain C loop gives; also from an object built with
// BPFPROBE_LOOP_NO_CALLBACK, whose bpf_loop tier configure() must never pick.
#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_loops.skel.h"
#include "compat_loops_nocb.skel.h"

using namespace compat_test;

namespace {

struct input {
  std::uint32_t n, stop_at;
};

// n <= BPFPROBE_LOOP_UNROLL_MAX (32): every tier must agree.
constexpr input inputs[] = {{0, ~0u}, {1, ~0u}, {10, ~0u}, {10, 5}, {10, 0}, {32, ~0u}, {32, 31}};
constexpr std::uint32_t weight = 3;

// What a plain loop computes: calls made, and the sum of index * weight over them.
std::pair<long, std::uint64_t> reference(input in) {
  long calls = 0;
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0; i < in.n; ++i) {
    ++calls;
    sum += i * weight;
    if (i == in.stop_at) break;
  }
  return {calls, sum};
}

template <class Skel>
loop_result run(const loaded<Skel>& l, input in) {
  l.skel->bss->loop_n = in.n;
  l.skel->bss->loop_stop_at = in.stop_at;
  l.skel->bss->loop_weight = weight;
  l.skel->bss->loop_result = {};
  EXPECT_TRUE(test_run(l.skel->progs.loop_run));
  return l.skel->bss->loop_result;
}

template <class Skel>
void same_as_best_tier(const tier_case& param) {
  const auto& [accessor, tier] = param;
  auto best = open_and_load<Skel>();
  COMPAT_REQUIRE_LOADED(best);
  auto forced = open_and_load<Skel>({{accessor, tier}});
  COMPAT_REQUIRE_FORCED(forced, accessor);
  for (const auto& in : inputs) {
    SCOPED_TRACE("n=" + std::to_string(in.n) + " stop_at=" + std::to_string(in.stop_at));
    loop_result want = run(best, in), got = run(forced, in);
    ASSERT_TRUE(got.ran);
    EXPECT_EQ(got.calls, want.calls);
    EXPECT_EQ(got.sum, want.sum);
    auto [calls, sum] = reference(in);
    EXPECT_EQ(want.calls, calls);
    EXPECT_EQ(want.sum, sum);
  }
  // Beyond the unrolled tier's limit it answers -E2BIG; the others loop (up to bpf_loop's 1 << 23).
  loop_result big = run(forced, {1000, 499});
  if (forced.choice(accessor).tier == BPFPROBE_LOOP_UNROLLED) {
    EXPECT_EQ(big.calls, -E2BIG);
  } else {
    EXPECT_EQ(big.calls, 500);
    EXPECT_EQ(big.sum, reference({1000, 499}).second);
  }
  EXPECT_EQ(run(forced, {(1u << 23) + 1, 0}).calls, -E2BIG);
}

// Kernels before 5.13 refuse a callback's address (BPF_PSEUDO_FUNC) even in dead code, so where
// bpf_loop is missing the tests use the object built without that tier.
class LoopTier : public testing::TestWithParam<tier_case> {};

TEST_P(LoopTier, SameAsBestTier) {
  if (shared_prober().helper("raw_tracepoint", "bpf_loop").supported())
    same_as_best_tier<compat_loops>(GetParam());
  else
    same_as_best_tier<compat_loops_nocb>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Compat, LoopTier, testing::ValuesIn(tiers_of({"loop"})), case_name);

TEST(LoopCompat, CompiledOutTierIsNeverChosen) {
  auto l = open_and_load<compat_loops_nocb>();
  COMPAT_REQUIRE_LOADED(l);
  const auto& c = l.choice("loop");
  EXPECT_NE(c.tier, static_cast<std::uint32_t>(BPFPROBE_LOOP_CALLBACK));
  EXPECT_NE(c.tier, static_cast<std::uint32_t>(BPFPROBE_TIER_UNAVAILABLE));
  for (const auto& [name, v] : c.passed_over)
    if (name == "callback") {
      EXPECT_EQ(v.state, bpfprobe::status::unsupported);
      EXPECT_NE(v.reason.find("compiled out"), std::string::npos) << v.reason;
    }
  for (const auto& in : inputs) EXPECT_EQ(run(l, in).calls, reference(in).first);

  // Forcing it gives "unavailable", which fails the load by name.
  auto forced = open_and_load<compat_loops_nocb>({{"loop", "callback"}});
  EXPECT_EQ(forced.choice("loop").tier, BPFPROBE_TIER_UNAVAILABLE);
  EXPECT_NE(forced.load_err, 0);
  EXPECT_NE(forced.log.find("bpfprobe_unavailable__loop"), std::string::npos) << forced.log;
}

}  // namespace
