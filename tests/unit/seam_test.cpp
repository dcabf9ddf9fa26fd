// Fault injection at the syscall seam: bpf() answers a chosen errno (and, for BPF_PROG_LOAD, a chosen
// verifier log) and the prober's verdicts for prog types, map types, helpers and misc facts follow
// the verdict rules. Calls that are not injected reach the real kernel; the tests that need a real
// answer skip when the kernel will not load a socket filter for us (not root).
#include <gtest/gtest.h>

#include <atomic>
#include <bpfprobe/bpfprobe.hpp>
#include <cstring>
#include <functional>
#include <string>

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

TEST(Seam, ProgTypeVerdictPerErrno) {
  for (int e : all_errnos) {
    injector inj;
    inj.cmd = BPF_PROG_LOAD;
    inj.err = e;
    injected_prober ip(inj);
    verdict v = ip.p.prog_type("socket_filter");
    EXPECT_GT(inj.injected.load(), 0);
    if (e == EINVAL || e == E2BIG)
      expect_unsupported(v, e, "prog socket_filter");
    else
      expect_unknown_naming(v, e, "prog socket_filter");
  }
}

TEST(Seam, MapTypeVerdictPerErrno) {
  for (const char* map : {"hash", "ringbuf", "sk_storage"}) {
    for (int e : all_errnos) {
      injector inj;
      inj.cmd = BPF_MAP_CREATE;
      inj.err = e;
      injected_prober ip(inj);
      verdict v = ip.p.map_type(map);
      EXPECT_GT(inj.injected.load(), 0);
      // sk_storage's set-up loads BTF first (not injected): without the kernel it is incomplete.
      if (std::string(map) == "sk_storage" && !kernel_loads_socket_filter()) {
        EXPECT_EQ(v.state, status::unknown) << map << " " << sys::errno_name(e);
        continue;
      }
      if (e == EINVAL || e == E2BIG)
        expect_unsupported(v, e, std::string("map ") + map);
      else
        expect_unknown_naming(v, e, std::string("map ") + map);
    }
  }
}

TEST(Seam, StructOpsMapEnotsuppProvesTheTypeExists) {
  // ENOTSUPP from BPF_MAP_CREATE of struct_ops comes after the type lookup (known_errnos of the probe).
  REQUIRE_KERNEL();
  injector inj;
  inj.cmd = BPF_MAP_CREATE;
  inj.err = sys::ENOTSUPP_KERNEL;
  inj.when = [](int, const bpf_attr& a) { return a.map_type == BPF_MAP_TYPE_STRUCT_OPS; };
  injected_prober ip(inj);
  EXPECT_EQ(ip.p.map_type("struct_ops").state, status::supported);
}

TEST(Seam, HelperVerdictPerErrnoWithoutLog) {
  REQUIRE_KERNEL();
  for (int e : all_errnos) {
    injector inj;
    inj.err = e;
    inj.when = loads_helper_call;
    injected_prober ip(inj);
    verdict v = ip.p.helper("socket_filter", "bpf_map_lookup_elem");
    EXPECT_EQ(inj.injected.load(), 1);
    if (e == EINVAL || e == E2BIG)
      expect_unsupported(v, e, "helper");
    else
      expect_unknown_naming(v, e, "helper");
  }
}

// The verifier printed the helper's call line, then rejected an argument: the helper exists.
TEST(Seam, ArgumentErrorAfterTheCallLineMeansSupported) {
  REQUIRE_KERNEL();
  const std::string log =
      "func#0 @0\n0: R1=ctx() R10=fp0\n0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n"
      "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  for (int e : {EACCES, EINVAL}) {
    injector inj;
    inj.err = e;
    inj.log = log;
    inj.when = loads_helper_call;
    injected_prober ip(inj);
    verdict v = ip.p.helper("socket_filter", "bpf_map_lookup_elem");
    EXPECT_EQ(v.state, status::supported) << sys::errno_name(e) << ": " << v.reason;
    EXPECT_EQ(v.evidence, "R1 type=ctx expected=map_ptr");
  }
}

// A log whose call line is another helper's (#12, not #1) does not prove this one.
TEST(Seam, CallLineOfAnotherHelperProvesNothing) {
  REQUIRE_KERNEL();
  injector inj;
  inj.err = EACCES;
  inj.log = "0: (85) call bpf_tail_call#12\nR1 type=ctx expected=map_ptr\n";
  inj.when = loads_helper_call;
  injected_prober ip(inj);
  EXPECT_EQ(ip.p.helper("socket_filter", "bpf_map_lookup_elem").state, status::unknown);
}

TEST(Seam, EpermIsUnknownEvenWithALog) {
  REQUIRE_KERNEL();
  injector inj;
  inj.err = EPERM;
  inj.log = "0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n";
  inj.when = loads_helper_call;
  injected_prober ip(inj);
  expect_unknown_naming(ip.p.helper("socket_filter", "bpf_map_lookup_elem"), EPERM, "helper");
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
      injector inj;
      inj.err = e;
      inj.log = log;
      inj.when = loads_helper_call;
      injected_prober ip(inj);
      verdict v = ip.p.helper("socket_filter", "bpf_map_lookup_elem");
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
  injector inj;
  inj.cmd = BPF_PROG_LOAD;
  inj.err = EPERM;
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
      injector inj;
      inj.cmd = cmd;
      inj.err = e;
      injected_prober ip(inj);
      verdict v = ip.p.misc(name);
      EXPECT_GT(inj.injected.load(), 0) << name;
      if (e == EINVAL || e == E2BIG)
        expect_unsupported(v, e, name);
      else
        expect_unknown_naming(v, e, name);
    }
  }
}

// Unknown verdicts are probed again on the next query; the second one reaches the kernel and gets
// the same answer a fresh prober gets.
TEST(Seam, UnknownVerdictsAreNotCached) {
  for (int e : unknown_errnos) {
    injector inj;
    inj.err = e;
    prober p;
    {
      sys::scoped_syscalls seam(inj);
      EXPECT_EQ(p.prog_type("socket_filter").state, status::unknown);
      EXPECT_EQ(p.map_type("array").state, status::unknown);
      EXPECT_EQ(p.misc("isa_v3").state, status::unknown);
    }
    injector counter;  // injects nothing
    sys::scoped_syscalls seam(counter);
    verdict prog = p.prog_type("socket_filter");
    EXPECT_GT(counter.calls.load(), 0) << "second prog query did not reach the kernel";
    int before = counter.calls;
    verdict map = p.map_type("array");
    EXPECT_GT(counter.calls.load(), before) << "second map query did not reach the kernel";
    before = counter.calls;
    verdict misc = p.misc("isa_v3");
    EXPECT_GT(counter.calls.load(), before) << "second misc query did not reach the kernel";
    prober fresh;
    EXPECT_EQ(prog.state, fresh.prog_type("socket_filter").state);
    EXPECT_EQ(map.state, fresh.map_type("array").state);
    EXPECT_EQ(misc.state, fresh.misc("isa_v3").state);
  }
}

TEST(Seam, UnknownHelperVerdictsAreNotCached) {
  REQUIRE_KERNEL();
  injector inj;
  inj.err = EPERM;
  inj.when = loads_helper_call;
  prober p;
  {
    sys::scoped_syscalls seam(inj);
    EXPECT_EQ(p.helper("xdp", "bpf_redirect").state, status::unknown);
  }
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
    injector inj;
    inj.err = e;
    prober p;
    {
      sys::scoped_syscalls seam(inj);
      EXPECT_EQ(p.prog_type("socket_filter").state, status::unsupported);
      EXPECT_EQ(p.map_type("array").state, status::unsupported);
      EXPECT_EQ(p.misc("isa_v3").state, status::unsupported);
    }
    injector counter;
    sys::scoped_syscalls seam(counter);
    EXPECT_EQ(p.prog_type("socket_filter").state, status::unsupported);
    EXPECT_EQ(p.map_type("array").state, status::unsupported);
    EXPECT_EQ(p.misc("isa_v3").state, status::unsupported);
    // Helpers of an unsupported type are decided without a call too.
    EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::unsupported);
    EXPECT_EQ(counter.calls.load(), 0);
  }
}

TEST(Seam, ConclusiveHelperVerdictsAreCached) {
  REQUIRE_KERNEL();
  injector inj;
  inj.err = EINVAL;
  inj.log = "0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\n";
  inj.when = loads_helper_call;
  prober p;
  {
    sys::scoped_syscalls seam(inj);
    EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::supported);
    inj.log = "0: (85) call bpf_redirect#23\nprogram of this type cannot use helper bpf_redirect#23\n";
    EXPECT_EQ(p.helper("socket_filter", "bpf_redirect").state, status::unsupported);
  }
  injector counter;
  sys::scoped_syscalls seam(counter);
  EXPECT_EQ(p.helper("socket_filter", "bpf_map_lookup_elem").state, status::supported);
  EXPECT_EQ(p.helper("socket_filter", "bpf_redirect").state, status::unsupported);
  EXPECT_EQ(counter.calls.load(), 0);
}

}  // namespace
}  // namespace bpfprobe
