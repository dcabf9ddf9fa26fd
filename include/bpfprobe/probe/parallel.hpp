// Runs independent jobs on a pool of threads: fn(i) for i in [0, n), each index exactly once. The one
// worker pool of the project: probes, the link report (more threads than CPUs, as it waits on the
// kernel) and objcheck trial loads all run through it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <type_traits>
#include <vector>

namespace bpfprobe::probe {

// threads == 0: one per CPU. The calling thread takes part, so threads == 1 runs inline.
template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& fn) {
  if (n == 0) return;
  unsigned t = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  t = static_cast<unsigned>(std::min<std::size_t>(t, n));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  };
  std::vector<std::jthread> pool;
  for (unsigned i = 1; i < t; ++i) pool.emplace_back(worker);
  worker();
}

// One result per row, the rows run in parallel: out[i] = fn(rows[i]), in row order.
template <class Row, class F>
auto parallel_map(const std::vector<Row>& rows, unsigned threads, F&& fn) {
  using result = decltype(fn(rows.front()));
  static_assert(!std::is_same_v<result, bool>, "std::vector<bool> elements cannot be written from threads");
  std::vector<result> out(rows.size());
  parallel_for(rows.size(), threads, [&](std::size_t i) { out[i] = fn(rows[i]); });
  return out;
}

}  // namespace bpfprobe::probe
