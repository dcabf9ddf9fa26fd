// Google Benchmark: bpfprobe's startup cost against `bpftool -j feature probe kernel`, measured in the
// same run. Process cases alternate bpftool and bpfprobe iteration by iteration and report the ratio
// of their times (x_bpftool); in-process cases (a cold prober answering one fact) report their ratio
// to bpftool's median measured at start. Repetitions give min/median/max. Needs root. Not a test.
//   build/bench/prober_bench [--benchmark_repetitions=N]   ($BPFPROBE_CLI overrides the CLI path)
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bpfprobe/bpfprobe.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace {

std::string cli() {
  if (const char* env = std::getenv("BPFPROBE_CLI"); env && *env) return env;
  return BPFPROBE_CLI;
}

std::string bpftool() { return ::access("/usr/sbin/bpftool", X_OK) == 0 ? "/usr/sbin/bpftool" : "bpftool"; }

// Runs argv with output discarded; wall seconds, and the child's peak RSS in KiB when `rss` is set
// (through /usr/bin/time, whose own small image is the floor, not this process's).
double run(std::vector<std::string> argv, long* rss = nullptr) {
  std::string rss_file;
  if (rss) {
    rss_file = (std::filesystem::temp_directory_path() / ("bpfprobe-bench-rss-" + std::to_string(::getpid()))).string();
    argv.insert(argv.begin(), {"/usr/bin/time", "-f", "%M", "-o", rss_file});
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  posix_spawn_file_actions_destroy(&fa);
  if (rss) {
    *rss = 0;
    if (FILE* f = std::fopen(rss_file.c_str(), "r")) {
      if (std::fscanf(f, "%ld", rss) != 1) *rss = 0;
      std::fclose(f);
    }
    std::remove(rss_file.c_str());
  }
  return s;
}

std::vector<std::string> bpftool_probe() { return {bpftool(), "-j", "feature", "probe", "kernel"}; }

// bpftool's full probe, median of 7 runs at start: the yardstick of the in-process cases.
double bpftool_median() {
  static const double median = [] {
    std::vector<double> t;
    for (int i = 0; i < 7; ++i) t.push_back(run(bpftool_probe()));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }();
  return median;
}

std::string cache_dir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bpfprobe-bench-XXXXXX").string();
    return std::string(::mkdtemp(tmpl.data()));
  }();
  return dir;
}

void process_case(benchmark::State& state, std::vector<std::string> args) {
  std::vector<std::string> argv{cli()};
  for (auto& a : args) argv.push_back(a == "@cache" ? "--cache-dir=" + cache_dir() : a);
  double ours = 0, theirs = 0;
  for (auto _ : state) {
    theirs += run(bpftool_probe());
    double t = run(argv);
    ours += t;
    state.SetIterationTime(t);
  }
  long rss = 0, bpftool_rss = 0;
  run(argv, &rss);
  run(bpftool_probe(), &bpftool_rss);
  state.counters["x_bpftool"] = ours / theirs;
  state.counters["bpftool_ms"] = theirs * 1000 / static_cast<double>(state.iterations());
  state.counters["rss_MiB"] = static_cast<double>(rss) / 1024;
  state.counters["bpftool_rss_MiB"] = static_cast<double>(bpftool_rss) / 1024;
}

// A new prober (persistent cache off: cold) answering one fact the build knows, as an application
// does at startup: construction, the query and destruction (fds closed) are all timed.
template <class Query>
void in_process(benchmark::State& state, Query query) {
  bpfprobe::probe::options o;
  o.cache.enabled = false;
  double total = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    {
      bpfprobe::prober p(o);
      benchmark::DoNotOptimize(query(p));
    }
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total += t;
    state.SetIterationTime(t);
  }
  state.counters["x_bpftool"] = total / static_cast<double>(state.iterations()) / bpftool_median();
}

void warm_cache(benchmark::State& state) {
  // Fills the cache the warm cases read (not a measurement of interest itself).
  for (auto _ : state) state.SetIterationTime(run({cli(), "--json", "--refresh", "--cache-dir=" + cache_dir()}));
}

}  // namespace

#define BPFPROBE_STATS                                                                                               \
  UseManualTime()                                                                                                    \
      ->Unit(benchmark::kMillisecond)                                                                                \
      ->Repetitions(5)                                                                                               \
      ->ReportAggregatesOnly(true)                                                                                   \
      ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }) \
      ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); })

BENCHMARK_CAPTURE(process_case, cold_full_report, std::vector<std::string>{"--json", "--no-cache"})
    ->Iterations(3)
    ->BPFPROBE_STATS;
BENCHMARK(warm_cache)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(process_case, warm_full_report, std::vector<std::string>{"--json", "@cache"})
    ->Iterations(3)
    ->BPFPROBE_STATS;
BENCHMARK_CAPTURE(process_case, fact_prog_xdp_process_cold,
                  std::vector<std::string>{"--no-cache", "--require", "prog:xdp"})
    ->Iterations(3)
    ->BPFPROBE_STATS;
BENCHMARK_CAPTURE(in_process, prog_xdp, [](bpfprobe::prober& p) { return p.prog_type("xdp"); })
    ->Iterations(20)
    ->BPFPROBE_STATS;
BENCHMARK_CAPTURE(in_process, map_hash, [](bpfprobe::prober& p) { return p.map_type("hash"); })
    ->Iterations(20)
    ->BPFPROBE_STATS;
BENCHMARK_CAPTURE(in_process, helper_xdp_redirect, [](bpfprobe::prober& p) { return p.helper("xdp", "bpf_redirect"); })
    ->Iterations(20)
    ->BPFPROBE_STATS;
BENCHMARK_CAPTURE(in_process, link_tcx, [](bpfprobe::prober& p) { return p.link("tcx"); })
    ->Iterations(20)
    ->BPFPROBE_STATS;

int main(int argc, char** argv) {
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(cache_dir(), ec);
  return 0;
}
