// func_ip_* and attach_cookie, once per tier, from real probe hits: a uprobe on a function of this
// binary (the address must be the function's, the cookie the one attached), and a kprobe on the
// getppid syscall where the kernel has kprobes.
#include <sys/syscall.h>
#include <unistd.h>

#include <cinttypes>
#include <fstream>
#include <optional>
#include <sstream>

#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_trace.skel.h"

extern "C" __attribute__((noinline, used)) int bpfprobe_compat_uprobe_target(int x) {
  asm volatile("" ::: "memory");
  return x * 2 + 1;
}

using namespace compat_test;

namespace {

constexpr std::uint64_t cookie = 0xc00c1e5eedull;

struct link_deleter {
  void operator()(bpf_link* l) const noexcept { bpf_link__destroy(l); }
};
using link_ptr = std::unique_ptr<bpf_link, link_deleter>;

pid_t gettid_() { return static_cast<pid_t>(syscall(SYS_gettid)); }

loaded<compat_trace> load(const compat::force_map& force, bool uprobe) {
  return open_and_load<compat_trace>(force, [uprobe](compat_trace* s) {
    bpf_program__set_autoload(s->progs.trace_uprobe, uprobe);
    bpf_program__set_autoload(s->progs.trace_kprobe, !uprobe);
  });
}

// Attaches the uprobe (with the cookie, or the cookie in the map for the map tier), calls the
// target once, returns what the program saw.
std::optional<trace_result> hit_uprobe(const loaded<compat_trace>& l, std::string* why) {
  l.skel->bss->trace_tid = static_cast<std::uint32_t>(gettid_());
  bool map = compat::uses_cookie_map(l.sel);
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = map ? 0 : cookie, .func_name = "bpfprobe_compat_uprobe_target");
  errno = 0;
  link_ptr link(bpf_program__attach_uprobe_opts(l.skel->progs.trace_uprobe, 0, "/proc/self/exe", 0, &opts));
  if (!link) {
    *why = "uprobe attach failed: " + bpfprobe::sys::errno_name(errno);
    return std::nullopt;
  }
  if (map) {
    auto r = compat::set_cookie(l.skel->obj, reinterpret_cast<std::uintptr_t>(&bpfprobe_compat_uprobe_target), cookie);
    EXPECT_TRUE(r) << r.error().describe();
  }
  volatile int v = bpfprobe_compat_uprobe_target(20);
  EXPECT_EQ(v, 41);
  return l.skel->bss->uprobe_result;
}

class UprobeTier : public testing::TestWithParam<tier_case> {};

TEST_P(UprobeTier, SameAsBestTier) {
  const auto& [accessor, tier] = GetParam();
  auto best = load({}, true);
  COMPAT_REQUIRE_BEST(best, accessor);
  auto forced = load({{accessor, tier}}, true);
  COMPAT_REQUIRE_FORCED(forced, accessor);

  std::string why;
  auto want = hit_uprobe(best, &why);
  if (!want) GTEST_SKIP() << why;
  auto got = hit_uprobe(forced, &why);
  ASSERT_TRUE(got) << why;
  EXPECT_EQ(want->hits, 1u);
  EXPECT_EQ(got->hits, 1u);
  EXPECT_EQ(want->func_ip, reinterpret_cast<std::uintptr_t>(&bpfprobe_compat_uprobe_target));
  EXPECT_EQ(got->func_ip, want->func_ip);
  EXPECT_EQ(want->cookie, cookie);
  EXPECT_EQ(got->cookie, want->cookie);
}

INSTANTIATE_TEST_SUITE_P(Compat, UprobeTier, testing::ValuesIn(tiers_of({"func_ip_uprobe", "attach_cookie"})),
                         case_name);

// The kernel's getppid syscall entry point and its address, from /proc/kallsyms.
std::optional<std::pair<std::string, std::uint64_t>> getppid_symbol() {
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string addr, type, name;
    f >> addr >> type >> name;
    if ((type == "T" || type == "t") &&
        (name == "__x64_sys_getppid" || name == "__arm64_sys_getppid" || name == "sys_getppid"))
      return std::make_pair(name, std::stoull(addr, nullptr, 16));
  }
  return std::nullopt;
}

std::optional<trace_result> hit_kprobe(const loaded<compat_trace>& l, const std::string& symbol, std::uint64_t addr,
                                       std::string* why) {
  l.skel->bss->trace_tid = static_cast<std::uint32_t>(gettid_());
  bool map = compat::uses_cookie_map(l.sel);
  LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = map ? 0 : cookie);
  errno = 0;
  link_ptr link(bpf_program__attach_kprobe_opts(l.skel->progs.trace_kprobe, symbol.c_str(), &opts));
  if (!link) {
    *why = "kprobe on " + symbol + " could not be attached here: " + bpfprobe::sys::errno_name(errno);
    return std::nullopt;
  }
  if (map) {
    // The probe sits on the function, or 4 bytes in, after an endbr64, on kernels with IBT.
    for (std::uint64_t a : {addr, addr + 4}) EXPECT_TRUE(compat::set_cookie(l.skel->obj, a, cookie));
  }
  EXPECT_EQ(getppid(), getppid());
  return l.skel->bss->kprobe_result;
}

class KprobeTier : public testing::TestWithParam<tier_case> {};

TEST_P(KprobeTier, SameAsBestTier) {
  const auto& [accessor, tier] = GetParam();
  auto sym = getppid_symbol();
  if (!sym) GTEST_SKIP() << "no getppid syscall symbol in /proc/kallsyms";
  auto best = load({}, false);
  COMPAT_REQUIRE_BEST(best, accessor);
  auto forced = load({{accessor, tier}}, false);
  COMPAT_REQUIRE_FORCED(forced, accessor);

  std::string why;
  auto want = hit_kprobe(best, sym->first, sym->second, &why);
  if (!want) GTEST_SKIP() << why;
  auto got = hit_kprobe(forced, sym->first, sym->second, &why);
  ASSERT_TRUE(got) << why;
  EXPECT_EQ(want->hits, 2u);  // two getppid() calls
  EXPECT_EQ(got->hits, 2u);
  if (sym->second != 0) {  // kallsyms shows 0 when kptr_restrict hides addresses
    EXPECT_EQ(want->func_ip, sym->second);
  }
  // The pt_regs tier reports the probe address, 4 bytes past the start on kernels with IBT.
  EXPECT_TRUE(got->func_ip == want->func_ip || got->func_ip == want->func_ip + 4)
      << std::hex << got->func_ip << " vs " << want->func_ip;
  EXPECT_EQ(want->cookie, cookie);
  EXPECT_EQ(got->cookie, want->cookie);
}

INSTANTIATE_TEST_SUITE_P(Compat, KprobeTier, testing::ValuesIn(tiers_of({"func_ip_kprobe", "attach_cookie"})),
                         case_name);

}  // namespace
