// Fault injection at the syscall seam: bpf() answers a chosen errno (and, for BPF_PROG_LOAD, a chosen
// verifier log) and the prober's verdicts for prog types, map types, helpers and misc facts follow
// the verdict rules. Calls that are not injected reach the real kernel; the tests that need a real
// answer skip when the kernel will not load a socket filter for us (not root).
#include <gtest/gtest.h>

#include <atomic>
#include <bpfprobe/bpfprobe.hpp>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bpfprobe {
namespace {

constexpr int all_errnos[] = {EPERM, EINVAL, E2BIG, ENOMEM, ENOSYS, EACCES, sys::ENOTSUPP_KERNEL};
constexpr int unknown_errnos[] = {EPERM, EACCES, ENOMEM, ENOSYS, sys::ENOTSUPP_KERNEL};
constexpr int absent_errnos[] = {EINVAL, E2BIG};

// BPF_PROG_LOAD of "call <helper>; ..." (the helper probes' program).
bool loads_helper_call(int cmd, const bpf_attr& attr) {
  if (cmd != BPF_PROG_LOAD || attr.insn_cnt == 0 || attr.insns == 0) return false;
  const auto* first = reinterpret_cast<const bpf_insn*>(static_cast<std::uintptr_t>(attr.insns));
  return first->code == (BPF_JMP | BPF_CALL) && first->src_reg == 0;
}

// Fails bpf(cmd) with `err` (and writes `log` into the load's log buffer) when `when` holds;
// passes every other call to the real kernel. Counts all calls.
class injector : public sys::syscalls {
 public:
  explicit injector(int error = 0, int command = -1) : cmd(command), err(error) {}
  int cmd = -1;  // -1: any command
  int err = 0;
  std::string log;
  std::function<bool(int, const bpf_attr&)> when;
  std::atomic<int> calls{0}, injected{0};

  long bpf(int c, union bpf_attr* attr, unsigned int size) noexcept override {
    ++calls;
    if (err != 0 && (cmd == -1 || c == cmd) && (!when || when(c, *attr))) {
      ++injected;
      if (c == BPF_PROG_LOAD && attr->log_buf && attr->log_size > 0 && attr->log_level > 0) {
        auto* buf = reinterpret_cast<char*>(static_cast<std::uintptr_t>(attr->log_buf));
        std::size_t n = std::min<std::size_t>(log.size(), attr->log_size - 1);
        std::memcpy(buf, log.data(), n);
        buf[n] = '\0';
      }
      errno = err;
      return -1;
    }
    return syscalls::real().bpf(c, attr, size);
  }
};

// A prober whose every probe sees `inj`.
struct injected_prober {
  explicit injected_prober(injector& inj) : seam(inj) {}
  sys::scoped_syscalls seam;
  prober p;
};

bool kernel_loads_socket_filter() {
  static const bool ok = [] {
    static constexpr auto prog = insn::return_zero();
    return static_cast<bool>(sys::prog_load({.type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = prog, .log_size = 0}));
  }();
  return ok;
}

#define REQUIRE_KERNEL()                                                                           \
  do {                                                                                             \
    if (!kernel_loads_socket_filter()) GTEST_SKIP() << "the kernel does not load BPF for us here"; \
  } while (0)

void expect_unknown_naming(const verdict& v, int err, const std::string& what) {
  EXPECT_EQ(v.state, status::unknown) << what << " " << sys::errno_name(err) << ": " << v.reason;
  EXPECT_NE(v.reason.find(sys::errno_name(err)), std::string::npos)
      << what << ": reason does not name " << sys::errno_name(err) << ": " << v.reason;
  EXPECT_EQ(v.err, err) << what;
}

void expect_unsupported(const verdict& v, int err, const std::string& what) {
  EXPECT_EQ(v.state, status::unsupported) << what << " " << sys::errno_name(err) << ": " << v.reason;
  EXPECT_FALSE(v.reason.empty()) << what;
  EXPECT_EQ(v.err, err) << what;
}

// The verdict rule for an injected errno: EINVAL and E2BIG mean unsupported, any other is unknown
// and names the errno.
void expect_errno_rule(const verdict& v, int err, const std::string& what) {
  if (err == EINVAL || err == E2BIG)
    expect_unsupported(v, err, what);
  else
    expect_unknown_naming(v, err, what);
}

// helper("socket_filter", "bpf_map_lookup_elem") while the load of its call fails with `err` and
// writes `log`; also how many loads were failed.
struct helper_answer {
  verdict v;
  int injected = 0;
};
helper_answer lookup_elem_helper(int err, const std::string& log = {}) {
  injector inj(err);
  inj.log = log;
  inj.when = loads_helper_call;
  injected_prober ip(inj);
  verdict v = ip.p.helper("socket_filter", "bpf_map_lookup_elem");
  return {std::move(v), inj.injected.load()};
}

TEST(Seam, ProgTypeVerdictPerErrno) {
  for (int e : all_errnos) {
    injector inj(e, BPF_PROG_LOAD);
    injected_prober ip(inj);
    verdict v = ip.p.prog_type("socket_filter");
    EXPECT_GT(inj.injected.load(), 0);
    expect_errno_rule(v, e, "prog socket_filter");
  }
}

TEST(Seam, MapTypeVerdictPerErrno) {
  for (const char* map : {"hash", "ringbuf", "sk_storage"}) {
    for (int e : all_errnos) {
      injector inj(e, BPF_MAP_CREATE);
      injected_prober ip(inj);
      verdict v = ip.p.map_type(map);
      EXPECT_GT(inj.injected.load(), 0);
      // sk_storage's set-up loads BTF first (not injected): without the kernel it is incomplete.
      if (std::string(map) == "sk_storage" && !kernel_loads_socket_filter())
        EXPECT_EQ(v.state, status::unknown) << map << " " << sys::errno_name(e);
      else
        expect_errno_rule(v, e, std::string("map ") + map);
    }
  }
}

TEST(Seam, StructOpsMapEnotsuppProvesTheTypeExists) {
  // ENOTSUPP from BPF_MAP_CREATE of struct_ops comes after the type lookup (known_errnos of the probe).
  REQUIRE_KERNEL();
  injector inj(sys::ENOTSUPP_KERNEL, BPF_MAP_CREATE);
  inj.when = [](int, const bpf_attr& a) { return a.map_type == BPF_MAP_TYPE_STRUCT_OPS; };
  injected_prober ip(inj);
  EXPECT_EQ(ip.p.map_type("struct_ops").state, status::supported);
}

TEST(Seam, HelperVerdictPerErrnoWithoutLog) {
  REQUIRE_KERNEL();
  for (int e : all_errnos) {
    auto [v, injected] = lookup_elem_helper(e);
    EXPECT_EQ(injected, 1);
    expect_errno_rule(v, e, "helper");
  }
}

// The verifier printed the helper's call line, then rejected an argument: the helper exists.
TEST(Seam, ArgumentErrorAfterTheCallLineMeansSupported) {
  REQUIRE_KERNEL();
  const std::string log =
      "func#0 @0\n0: R1=ctx() R10=fp0\n0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n"
      "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  for (int e : {EACCES, EINVAL}) {
    verdict v = lookup_elem_helper(e, log).v;
    EXPECT_EQ(v.state, status::supported) << sys::errno_name(e) << ": " << v.reason;
    EXPECT_EQ(v.evidence, "R1 type=ctx expected=map_ptr");
  }
}

// A log whose call line is another helper's (#12, not #1) does not prove this one.
TEST(Seam, CallLineOfAnotherHelperProvesNothing) {
  REQUIRE_KERNEL();
  auto answer = lookup_elem_helper(EACCES, "0: (85) call bpf_tail_call#12\nR1 type=ctx expected=map_ptr\n");
  EXPECT_EQ(answer.v.state, status::unknown);
}

TEST(Seam, EpermIsUnknownEvenWithALog) {
  REQUIRE_KERNEL();
  auto answer = lookup_elem_helper(EPERM, "0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n");
  expect_unknown_naming(answer.v, EPERM, "helper");
}

TEST(Seam, HelperRejectionWordingsMeanUnsupported) {
  REQUIRE_KERNEL();
  const char* logs[] = {
      "0: R1=ctx() R10=fp0\n0: (85) call unknown#1\ninvalid func unknown#1\nprocessed 0 insns\n",
      "0: R1=ctx() R10=fp0\n0: (85) call bpf_map_lookup_elem#1\n"
      "program of this type cannot use helper bpf_map_lookup_elem#1\nprocessed 0 insns\n",
      "0: (85) call bpf_map_lookup_elem#1\nunknown func bpf_map_lookup_elem#1\n",
  };
  for (const char* log : logs) {
    for (int e : {EINVAL, EACCES}) {
      verdict v = lookup_elem_helper(e, log).v;
      EXPECT_EQ(v.state, status::unsupported) << log;
      EXPECT_TRUE(v.evidence.find("invalid func") != std::string::npos ||
                  v.evidence.find("cannot use helper") != std::string::npos ||
                  v.evidence.find("unknown func") != std::string::npos)
          << "evidence is the deciding line: " << v.evidence;
    }
  }
}

TEST(Seam, HelperOfAnUndecidedProgramTypeIsUnknown) {
  // The type's own load fails with EPERM: its helpers cannot be decided either.
  injector inj(EPERM, BPF_PROG_LOAD);
  injected_prober ip(inj);
  verdict v = ip.p.helper("socket_filter", "bpf_map_lookup_elem");
  EXPECT_EQ(v.state, status::unknown);
  EXPECT_NE(v.reason.find("EPERM"), std::string::npos) << v.reason;
}

TEST(Seam, MiscVerdictPerErrno) {
  struct row {
    const char* name;
    int cmd;
  };
  for (auto [name, cmd] :
       {row{"isa_v2", BPF_PROG_LOAD}, row{"bounded_loops", BPF_PROG_LOAD}, row{"map_flag_mmapable", BPF_MAP_CREATE},
        row{"btf_float", BPF_BTF_LOAD}, row{"bpf_token", BPF_TOKEN_CREATE}}) {
    for (int e : all_errnos) {
      injector inj(e, cmd);
      injected_prober ip(inj);
      verdict v = ip.p.misc(name);
      EXPECT_GT(inj.injected.load(), 0) << name;
      expect_errno_rule(v, e, name);
    }
  }
}

// Runs `f` with every bpf() call going through `inj`.
template <class F>
void with_seam(injector& inj, F&& f) {
  sys::scoped_syscalls seam(inj);
  f();
}

// The lazy queries the cache tests repeat: a program type, a map type and a misc fact.
struct lazy_query {
  const char* what;
  verdict (*ask)(prober&);
};
constexpr lazy_query cached_queries[] = {
    {"prog socket_filter", [](prober& p) { return p.prog_type("socket_filter"); }},
    {"map array", [](prober& p) { return p.map_type("array"); }},
    {"misc isa_v3", [](prober& p) { return p.misc("isa_v3"); }},
};

// Each cached query asked once while every bpf() call fails with `err`: each answer is `expected`.
void ask_each_failing(prober& p, int err, status expected) {
  injector inj(err);
  with_seam(inj, [&] {
    for (const auto& q : cached_queries) EXPECT_EQ(q.ask(p).state, expected) << q.what << " " << sys::errno_name(err);
  });
}

// Unknown verdicts are probed again on the next query; the second one reaches the kernel and gets
// the same answer a fresh prober gets.
TEST(Seam, UnknownVerdictsAreNotCached) {
  for (int e : unknown_errnos) {
    prober p;
    ask_each_failing(p, e, status::unknown);
    injector counter;  // injects nothing
    sys::scoped_syscalls seam(counter);
    std::vector<verdict> second;
    for (const auto& q : cached_queries) {
      int before = counter.calls;
      second.push_back(q.ask(p));
      EXPECT_GT(counter.calls.load(), before) << "second " << q.what << " query did not reach the kernel";
    }
    prober fresh;
    for (std::size_t i = 0; i < second.size(); ++i)
      EXPECT_EQ(second[i].state, cached_queries[i].ask(fresh).state) << cached_queries[i].what;
  }
}

// What a prober decided without caching it is still part of what it decided (decided(): the kernel
// snapshot's verdicts), so a snapshot made where an unknown cannot be cached still records it.
TEST(Seam, UncachedVerdictsAreStillDecided) {
  probe::options no_cache;
  no_cache.cache.enabled = false;  // a key read from the disk cache would stand in for the injected one
  for (int e : unknown_errnos) {
    prober p(no_cache);
    ask_each_failing(p, e, status::unknown);
    std::map<std::string, verdict> decided;
    for (auto& [key, v] : p.decided()) decided.emplace(key, v);
    for (const char* key : {"prog_type/socket_filter", "map_type/array", "misc/isa_v3"}) {
      auto it = decided.find(key);
      ASSERT_NE(it, decided.end()) << key << " " << sys::errno_name(e);
      EXPECT_EQ(it->second.state, status::unknown) << key;
      EXPECT_EQ(it->second.err, e) << key;
    }
  }
}

TEST(Seam, UnknownHelperVerdictsAreNotCached) {
  REQUIRE_KERNEL();
  injector inj(EPERM);
  inj.when = loads_helper_call;
  prober p;
  with_seam(inj, [&] { EXPECT_EQ(p.helper("xdp", "bpf_redirect").state, status::unknown); });
  injector counter;
  sys::scoped_syscalls seam(counter);
  verdict v = p.helper("xdp", "bpf_redirect");
  EXPECT_EQ(counter.calls.load(), 1) << "type cached (1 call for the helper only)";
  EXPECT_EQ(v.state, status::supported);
}

// Conclusive verdicts are cached: after the injection is gone, the same query makes no bpf() call
// and repeats the injected answer.
TEST(Seam, ConclusiveVerdictsAreCached) {
  for (int e : absent_errnos) {
    prober p;
    ask_each_failing(p, e, status::unsupported);
    injector counter;
    sys::scoped_syscalls seam(counter);
    for (const auto& q : cached_queries) EXPECT_EQ(q.ask(p).state, status::unsupported) << q.what;
    // Helpers of an unsupported type are decided without a call too.
    EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::unsupported);
    EXPECT_EQ(counter.calls.load(), 0);
  }
}

TEST(Seam, ConclusiveHelperVerdictsAreCached) {
  REQUIRE_KERNEL();
  injector inj(EINVAL);
  inj.log = "0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n";
  inj.when = loads_helper_call;
  prober p;
  with_seam(inj, [&] {
    EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::supported);
    inj.log = "0: (85) call bpf_redirect#23\nprogram of this type cannot use helper bpf_redirect#23\n";
    EXPECT_EQ(p.helper("socket_filter", "bpf_redirect").state, status::unsupported);
  });
  injector counter;
  sys::scoped_syscalls seam(counter);
  EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::supported);
  EXPECT_EQ(p.helper("socket_filter", "bpf_redirect").state, status::unsupported);
  EXPECT_EQ(counter.calls.load(), 0);
}

}  // namespace
}  // namespace bpfprobe
