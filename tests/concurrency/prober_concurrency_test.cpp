// One prober shared by many threads: every fact family queried lazily from 8 threads at once, and two
// full reports computed at once. The threads must agree on every verdict, and the TSan build
// (scripts/run-sanitizers.sh) must find no data race in the prober, its cache or the probes.
#include <gtest/gtest.h>

#include <bpfprobe/bpfprobe.hpp>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace bpfprobe::testing {
namespace {

using query = std::pair<std::string, std::function<verdict(prober&)>>;

// Every fact family the prober answers lazily: names from the kernel's enums and the probe tables,
// plus fixed kfunc/dynptr/iterator names (absent ones must be answered consistently too).
std::vector<query> every_family(prober& p) {
  std::vector<query> q;
  const auto& enums = p.context().enums();
  for (const auto& e : enums.prog_types)
    q.emplace_back("prog:" + e.name, [n = e.name](prober& x) { return x.prog_type(n); });
  for (const auto& e : enums.map_types)
    q.emplace_back("map:" + e.name, [n = e.name](prober& x) { return x.map_type(n); });
  for (const char* type : {"xdp", "kprobe", "sched_cls", "cgroup_skb"})
    for (const auto& h : enums.helpers)
      q.emplace_back(std::string("helper:") + type + ":" + h.name,
                     [t = std::string(type), n = h.name](prober& x) { return x.helper(t, n); });
  for (const auto& row : probe::misc_probes())
    q.emplace_back("misc:" + std::string(row.info.name),
                   [n = std::string(row.info.name)](prober& x) { return x.misc(n); });
  for (const char* k : {"bpf_rdonly_cast", "bpf_cast_to_kern_ctx", "bpf_task_acquire", "bpf_task_release",
                        "bpf_obj_new_impl", "bpf_cgroup_acquire", "bpf_iter_num_new", "bpfprobe_no_such_kfunc"})
    q.emplace_back(std::string("kfunc:") + k, [n = std::string(k)](prober& x) { return x.kfunc(n); });
  for (const char* type : {"xdp", "tracing", "syscall"})
    q.emplace_back(std::string("kfunc:bpf_task_acquire:") + type,
                   [t = std::string(type)](prober& x) { return x.kfunc("bpf_task_acquire", t); });
  for (const auto& e : enums.link_types) {
    q.emplace_back("link:" + e.name, [n = e.name](prober& x) { return x.link(n); });
    for (const auto& v : probe::link_variants(p.context(), e.name))
      q.emplace_back("link:" + e.name + ":" + v.label,
                     [n = e.name, l = v.label](prober& x) { return x.link_attach_type(n, l); });
  }
  for (const auto& row : probe::mechanism_probes())
    q.emplace_back("mechanism:" + std::string(row.info.name),
                   [n = std::string(row.info.name)](prober& x) { return x.mechanism(n); });
  for (const char* d : {"local", "ringbuf", "skb", "xdp", "bpf_dynptr_slice", "bpf_ringbuf_reserve_dynptr"})
    q.emplace_back(std::string("dynptr:") + d, [n = std::string(d)](prober& x) { return x.dynptr(n); });
  for (const char* i :
       {"task", "bpf_map_elem", "cgroup", "bpf_iter_num", "bpf_iter_task_vma", "bpf_loop", "bpf_for_each_map_elem"})
    q.emplace_back(std::string("iter:") + i, [n = std::string(i)](prober& x) { return x.iterator(n); });
  for (const char* h :
       {"xdp", "tc", "cgroup", "kprobe", "kretprobe", "uprobe", "uretprobe", "tracepoint", "output", "iterator"})
    q.emplace_back(std::string("attach:") + h, [n = std::string(h)](prober& x) {
      auto c = decide::hook(decide::from(x), n);
      return c ? decide::hook_verdict(*c) : verdict::unknown("no such hook");
    });
  return q;
}

std::string describe(const verdict& v) {
  return std::string(to_string(v.state)) + " (" + v.reason + "; evidence: " + v.evidence + ")";
}

TEST(Concurrency, EightThreadsQueryEveryFamilyOnOneProber) {
  prober p;
  const auto queries = every_family(p);
  ASSERT_GT(queries.size(), 100u);
  constexpr std::size_t threads = 8;
  std::vector<std::vector<verdict>> got(threads, std::vector<verdict>(queries.size()));
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        // Each thread starts at its own offset, so different families run side by side and the same
        // fact is often computed by two threads before either has cached it.
        for (std::size_t k = 0; k < queries.size(); ++k) {
          std::size_t i = (k + t * queries.size() / threads) % queries.size();
          got[t][i] = queries[i].second(p);
        }
      });
  }
  std::size_t decided = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const verdict& first = got[0][i];
    decided += first.conclusive();
    for (std::size_t t = 1; t < threads; ++t)
      EXPECT_EQ(got[t][i].state, first.state) << queries[i].first << ": thread 0 says " << describe(first)
                                              << ", thread " << t << " says " << describe(got[t][i]);
    // Asked again on this thread, a conclusive verdict comes from the cache unchanged.
    if (first.conclusive()) {
      EXPECT_EQ(queries[i].second(p).state, first.state) << queries[i].first;
    }
  }
  EXPECT_GT(decided, 0u) << "no query was decided";
}

// "section/name" → state of every fact of a report and of the attach choice.
std::map<std::string, status> states(const report& r, const std::vector<decide::choice>& attach) {
  std::map<std::string, status> out;
  auto add = [&](const std::string& prefix, const section& s) {
    for (const auto& f : s) out.emplace(prefix + "/" + f.name, f.v.state);
  };
  add("program_types", r.program_types);
  add("map_types", r.map_types);
  add("misc", r.misc);
  add("config", r.config);
  for (const auto& [type, s] : r.helpers) add("helpers/" + type, s);
  for (const auto& [name, s] : r.more) add(name, s);
  for (const auto& c : attach)
    for (const auto& cand : c.candidates) out.emplace("attach/" + c.hook + "/" + cand.path, cand.v.state);
  return out;
}

TEST(Concurrency, TwoFullReportsAtOnceOnOneProber) {
  prober p;
  std::map<std::string, status> a, b;
  {
    auto full = [&p](std::map<std::string, status>& out) {
      report r = p.full_report();
      out = states(r, decide::all(decide::from(p)));
    };
    std::jthread first(full, std::ref(a));
    std::jthread second(full, std::ref(b));
  }
  ASSERT_GT(a.size(), 1000u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, state] : a) {
    auto it = b.find(name);
    ASSERT_NE(it, b.end()) << name << " is only in the first report";
    EXPECT_EQ(it->second, state) << name << ": " << to_string(state) << " vs " << to_string(it->second);
  }
}

}  // namespace
}  // namespace bpfprobe::testing
