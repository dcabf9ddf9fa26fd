// probe::parallel_for, the one worker pool: every index exactly once, the thread count it is given
// (the caller included), and nothing run for an empty range.
#include <gtest/gtest.h>

#include <atomic>
#include <bpfprobe/probe/parallel.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace bpfprobe {
namespace {

TEST(ParallelFor, EveryIndexExactlyOnce) {
  for (unsigned threads : {0u, 1u, 3u, 16u}) {
    for (std::size_t n : {0u, 1u, 5u, 1000u}) {
      std::vector<std::atomic<int>> seen(n);
      probe::parallel_for(n, threads, [&](std::size_t i) { seen[i].fetch_add(1); });
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i].load(), 1) << "n " << n << " threads " << threads;
    }
  }
}

TEST(ParallelFor, OneThreadRunsInlineInOrder) {
  std::vector<std::size_t> order;
  const auto caller = std::this_thread::get_id();
  probe::parallel_for(10, 1, [&](std::size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
  });
  ASSERT_EQ(order.size(), 10u);
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
}

// With k threads, k jobs that each wait for all k to have started all get through: they run at the
// same time. Fewer threads would leave the first job waiting until the deadline.
TEST(ParallelFor, RunsJobsAtOnceOnTheThreadsAskedFor) {
  constexpr unsigned k = 4;
  std::atomic<unsigned> started{0};
  std::atomic<unsigned> met{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  probe::parallel_for(k, k, [&](std::size_t) {
    {
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    started.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < k && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    if (started.load() == k) met.fetch_add(1);
  });
  EXPECT_EQ(met.load(), k);
  EXPECT_EQ(ids.size(), k);
}

}  // namespace
}  // namespace bpfprobe
