// dynptr accessors, once per tier: each forced tier must give exactly what the best tier gives, and
// the best tier what the dynptrs really are (size and offset after bpf_dynptr_adjust, read-only for
// a socket filter's skb, null after a failed bpf_dynptr_from_mem).
#include <array>
#include <cstring>
#include <optional>

#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_dynptr.skel.h"

// gtest finds these for the global struct only at global scope.
static bool operator==(const dynptr_result& a, const dynptr_result& b) {
  return a.size == b.size && a.offset == b.offset && a.type == b.type && a.is_rdonly == b.is_rdonly &&
         a.is_null == b.is_null && a.adjusted == b.adjusted && a.ran == b.ran;
}

static std::ostream& operator<<(std::ostream& os, const dynptr_result& r) {
  return os << "{size " << r.size << ", offset " << r.offset << ", type " << r.type << ", rdonly " << int(r.is_rdonly)
            << ", null " << int(r.is_null) << ", adjusted " << int(r.adjusted) << ", ran " << int(r.ran) << "}";
}

using namespace compat_test;

namespace {

constexpr std::uint32_t einval_size = static_cast<std::uint32_t>(-EINVAL);

struct runs {
  dynptr_result local{}, null{}, skb_ro{}, skb_rw{};
  std::uint32_t type_local = 0, type_skb = 0;
};

// The programs need dynptrs from memory in raw_tracepoint; the skb ones also bpf_dynptr_from_skb.
std::optional<std::string> not_runnable() {
  auto v = shared_prober().helper("raw_tracepoint", "bpf_dynptr_from_mem");
  if (!v.supported())
    return "bpf_dynptr_from_mem in raw_tracepoint is " + std::string(bpfprobe::to_string(v.state)) + ": " + v.reason;
  return std::nullopt;
}

bool skb_dynptr(std::string_view prog_type) {
  compat::kernel_checks k(shared_prober());
  return k.kfunc(prog_type, "bpf_dynptr_from_skb").supported();
}

std::array<std::byte, 64> packet() {
  std::array<std::byte, 64> p{};
  for (std::size_t i = 0; i < 6; ++i) p[i] = std::byte{0xff};  // broadcast destination
  p[12] = std::byte{0x08};                                     // IPv4 ethertype; the rest is zeros
  return p;
}

loaded<compat_dynptr> load(const compat::force_map& force) {
  return open_and_load<compat_dynptr>(force, [](compat_dynptr* s) {
    bpf_program__set_autoload(s->progs.dynptr_skb_ro, skb_dynptr("socket_filter"));
    bpf_program__set_autoload(s->progs.dynptr_skb_rw, skb_dynptr("sched_cls"));
  });
}

runs run_all(const loaded<compat_dynptr>& l) {
  runs r;
  auto* s = l.skel.get();
  EXPECT_TRUE(test_run(s->progs.dynptr_local));
  EXPECT_TRUE(test_run(s->progs.dynptr_null));
  r.local = s->bss->local_result;
  r.null = s->bss->null_result;
  auto pkt = packet();
  if (bpf_program__fd(s->progs.dynptr_skb_ro) >= 0) {
    EXPECT_TRUE(test_run(s->progs.dynptr_skb_ro, pkt));
    r.skb_ro = s->bss->skb_result;
    s->bss->skb_result = {};
  }
  if (bpf_program__fd(s->progs.dynptr_skb_rw) >= 0) {
    EXPECT_TRUE(test_run(s->progs.dynptr_skb_rw, pkt));
    r.skb_rw = s->bss->skb_result;
  }
  r.type_local = s->bss->type_local;
  r.type_skb = s->bss->type_skb;
  return r;
}

class DynptrTier : public testing::TestWithParam<tier_case> {};

TEST_P(DynptrTier, SameAsBestTier) {
  if (auto why = not_runnable()) GTEST_SKIP() << *why;
  const auto& [accessor, tier] = GetParam();

  auto best = load({});
  COMPAT_REQUIRE_BEST(best, accessor);
  runs expect = run_all(best);

  auto forced = load({{accessor, tier}});
  COMPAT_REQUIRE_FORCED(forced, accessor);
  EXPECT_EQ(forced.choice(accessor).tier_name, tier);
  runs got = run_all(forced);

  EXPECT_EQ(got.local, expect.local);
  EXPECT_EQ(got.null, expect.null);
  EXPECT_EQ(got.skb_ro, expect.skb_ro);
  EXPECT_EQ(got.skb_rw, expect.skb_rw);

  // And the best tier tells the truth.
  ASSERT_TRUE(expect.local.ran);
  EXPECT_EQ(expect.local.size, expect.local.adjusted ? 37u : 64u);  // adjust(3, 40) of 64 bytes
  EXPECT_EQ(expect.local.offset, expect.local.adjusted ? 3u : 0u);
  EXPECT_EQ(expect.local.type, expect.type_local);
  EXPECT_FALSE(expect.local.is_rdonly);
  EXPECT_FALSE(expect.local.is_null);

  ASSERT_TRUE(expect.null.ran);
  EXPECT_EQ(expect.null.size, einval_size);  // bpf_dynptr_size() of a null dynptr is -EINVAL
  EXPECT_EQ(expect.null.offset, 0u);
  EXPECT_EQ(expect.null.type, 0u);
  EXPECT_FALSE(expect.null.is_rdonly);
  EXPECT_TRUE(expect.null.is_null);

  for (auto [r, rdonly] : {std::pair{expect.skb_ro, true}, std::pair{expect.skb_rw, false}}) {
    if (!r.ran) continue;                       // no bpf_dynptr_from_skb for that program type here
    EXPECT_EQ(r.size, r.adjusted ? 28u : 64u);  // adjust(2, 30) of a 64-byte packet
    EXPECT_EQ(r.offset, r.adjusted ? 2u : 0u);
    EXPECT_EQ(r.type, expect.type_skb);
    EXPECT_EQ(bool(r.is_rdonly), rdonly);
    EXPECT_FALSE(r.is_null);
  }
}

INSTANTIATE_TEST_SUITE_P(Compat, DynptrTier,
                         testing::ValuesIn(tiers_of({"dynptr_size", "dynptr_offset", "dynptr_is_rdonly",
                                                     "dynptr_is_null", "dynptr_type"})),
                         case_name);

// Reaching an accessor whose tier is "unavailable" fails the load, and libbpf's log names it.
TEST(DynptrCompat, UnavailableFailsTheLoadByName) {
  if (auto why = not_runnable()) GTEST_SKIP() << *why;
  auto l = load({{"dynptr_offset", "unavailable"}});
  EXPECT_EQ(l.choice("dynptr_offset").tier, BPFPROBE_TIER_UNAVAILABLE);
  EXPECT_NE(l.load_err, 0);
  EXPECT_NE(l.log.find("bpfprobe_unavailable__dynptr_offset"), std::string::npos) << l.log;
}

// AUTO: the program picks its tiers itself (bpf_ksym_exists, CO-RE) and agrees with the best tier.
TEST(DynptrCompat, AutoAgreesWithVerdicts) {
  if (auto why = not_runnable()) GTEST_SKIP() << *why;
  auto best = load({});
  ASSERT_EQ(best.load_err, 0) << best.log;
  compat::force_map all_auto;
  for (const auto& c : best.sel.choices) all_auto[c.accessor] = "auto";
  auto automatic = load(all_auto);
  ASSERT_EQ(automatic.load_err, 0) << automatic.log;
  for (const auto& c : automatic.sel.choices) EXPECT_EQ(c.tier, BPFPROBE_TIER_AUTO) << c.accessor;
  runs a = run_all(best), b = run_all(automatic);
  EXPECT_EQ(b.local, a.local);
  EXPECT_EQ(b.null, a.null);
  EXPECT_EQ(b.skb_ro, a.skb_ro);
  EXPECT_EQ(b.skb_rw, a.skb_rw);
}

}  // namespace
