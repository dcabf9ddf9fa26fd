// bpfprobe_output, once per tier: the record a program sends arrives intact through
// compat::output_reader, the same as through the best tier; the map the tier does not use is not
// created.
#include <bpf/bpf.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_output.skel.h"

using namespace compat_test;

namespace {

// Runs the program once with `seq` and returns the records read back.
std::vector<output_record> emit(const loaded<compat_output>& l, std::uint32_t seq, std::int64_t* err) {
  std::vector<output_record> got;
  auto reader = compat::output_reader::open(l.skel->obj, "events", l.sel, [&](std::span<const std::byte> data) {
    output_record r{};
    EXPECT_GE(data.size(), sizeof(r));  // perf records may carry padding after the record
    std::memcpy(&r, data.data(), std::min(data.size(), sizeof(r)));
    got.push_back(r);
  });
  if (!reader) {
    ADD_FAILURE() << reader.error().describe();
    return got;
  }
  l.skel->bss->output_seq = seq;
  EXPECT_TRUE(test_run(l.skel->progs.output_emit));
  *err = l.skel->bss->output_err;
  for (int i = 0; i < 20 && got.empty(); ++i) {
    auto n = reader.value().poll(50);
    EXPECT_TRUE(n) << n.error().describe();
  }
  EXPECT_EQ(reader.value().lost(), 0u);
  return got;
}

class OutputTier : public tier_test<compat_output> {};

TEST_P(OutputTier, SameAsBestTier) {
  std::int64_t best_err = -1, forced_err = -1;
  auto want = emit(best, 41, &best_err);
  auto got = emit(forced, 41, &forced_err);
  EXPECT_EQ(forced_err, 0);
  EXPECT_EQ(best_err, 0);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(want.size(), 1u);
  for (const auto& r : {want[0], got[0]}) {
    EXPECT_EQ(r.magic, OUTPUT_MAGIC);
    EXPECT_EQ(r.tgid, static_cast<std::uint32_t>(getpid()));
    EXPECT_EQ(r.seq, 41u);
  }

  // Only the map of the chosen tier exists (libbpf keeps a placeholder fd for the other).
  bool ringbuf = forced.choice(GetParam().accessor).tier == BPFPROBE_OUTPUT_RINGBUF;
  auto is_map = [](const bpf_map* m) {
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    return bpf_map__autocreate(m) && bpf_map_get_info_by_fd(bpf_map__fd(m), &info, &len) == 0;
  };
  EXPECT_EQ(is_map(forced.skel->maps.events__ringbuf), ringbuf);
  EXPECT_EQ(is_map(forced.skel->maps.events__perf), !ringbuf);
}

INSTANTIATE_TEST_SUITE_P(Compat, OutputTier, testing::ValuesIn(tiers_of({"output"})), case_name);

}  // namespace
