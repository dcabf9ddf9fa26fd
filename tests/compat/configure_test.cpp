// configure() itself: every chosen tier is one the verdicts support and every better tier one they
// do not; unknown verdicts (EPERM injected at the syscall seam) never count as support; the
// selection printed here is what the matrix grid shows per kernel.
#include <linux/bpf.h>

#include <bpfprobe/sys/syscalls.hpp>

#include "compat_test.hpp"
// The skeletons need the result structs of results.h first.
#include "compat_dynptr.skel.h"
#include "compat_loops.skel.h"
#include "compat_output.skel.h"
#include "compat_task.skel.h"
#include "compat_trace.skel.h"

using namespace compat_test;

namespace {

template <class Skel>
compat::selection select_for(bpfprobe::prober& p, const compat::options& opt = {}) {
  std::unique_ptr<Skel, void (*)(Skel*)> s(Skel::open(), Skel::destroy);
  EXPECT_TRUE(s);
  if (!s) return {};
  auto sel = compat::configure(p, s.get(), opt);
  EXPECT_TRUE(sel) << sel.error().describe();
  return sel ? std::move(sel).value() : compat::selection{};
}

void check_consistent(const compat::selection& sel) {
  for (const auto& c : sel.choices) {
    SCOPED_TRACE(c.accessor);
    if (c.tier == BPFPROBE_TIER_UNAVAILABLE) {
      EXPECT_FALSE(c.v.supported());
      EXPECT_EQ(c.passed_over.size(), compat::find_accessor(c.accessor)->tiers.size());
    } else {
      EXPECT_TRUE(c.v.supported()) << c.v.reason;
      EXPECT_EQ(c.tier_name, compat::tier_name(*compat::find_accessor(c.accessor), c.tier));
    }
    for (const auto& [name, v] : c.passed_over) EXPECT_FALSE(v.supported()) << name << ": " << v.reason;
    EXPECT_FALSE(c.forced);
  }
}

// Prints the tier each accessor gets on this kernel and records it for the test report (the
// matrix collects these properties per kernel).
TEST(CompatSelection, ChosenTiersFollowTheVerdicts) {
  auto& p = shared_prober();
  std::string report;
  for (const auto& sel : {select_for<compat_dynptr>(p), select_for<compat_task>(p), select_for<compat_loops>(p),
                          select_for<compat_output>(p), select_for<compat_trace>(p)}) {
    check_consistent(sel);
    report += compat::to_string(sel);
    for (const auto& c : sel.choices) RecordProperty("tier." + c.accessor, c.tier_name);
  }
  std::cout << report;
}

// The report's "compat" section (and the matrix grid's): every accessor, its first supported tier.
TEST(CompatSelection, ReportTiersListsEveryAccessor) {
  auto tiers = compat::report_tiers(shared_prober());
  ASSERT_EQ(tiers.size(), compat::accessors().size());
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    const auto& a = tiers[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, compat::accessors()[i].name);
    ASSERT_EQ(a.tiers.size(), compat::accessors()[i].tiers.size());
    std::string first = "unavailable";
    for (const auto& [name, v] : a.tiers)
      if (v.supported()) {
        first = name;
        break;
      }
    EXPECT_EQ(a.tier, first);
    EXPECT_EQ(a.prog_type, compat::typical_prog_type(a.name));
  }
}

TEST(CompatSelection, ExplicitProgramTypesReplaceTheObjects) {
  auto sel = select_for<compat_task>(shared_prober(), {.prog_types = {"syscall", "raw_tracepoint"}});
  EXPECT_EQ(sel.prog_types, (std::vector<std::string>{"syscall", "raw_tracepoint"}));
  check_consistent(sel);
}

// Every program load answers EPERM: no verdict is conclusive, so only tiers that need nothing from
// the kernel may be chosen, and "unavailable" is unknown rather than unsupported.
class eperm_loads : public bpfprobe::sys::syscalls {
 public:
  long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept override {
    if (cmd == BPF_PROG_LOAD) {
      errno = EPERM;
      return -1;
    }
    return syscalls::bpf(cmd, attr, size);
  }
};

// With every load refused, no tier is chosen on a "not permitted" answer: a tier this kernel really
// supports becomes unknown (EPERM), never supported or unsupported. Tiers the kernel lacks by its BTF
// (no bpf_iter_num on 5.10) stay unsupported: that answer needs no load.
TEST(CompatSelection, UnknownVerdictsAreNotSupport) {
  bpfprobe::prober real;
  auto real_loops = select_for<compat_loops>(real);
  auto real_dynptr = select_for<compat_dynptr>(real);
  auto really_supported = [](const compat::selection& sel, const std::string& accessor, const std::string& tier) {
    const auto* c = sel.find(accessor);
    return c && c->tier_name == tier && c->v.supported();
  };

  eperm_loads fake;
  bpfprobe::sys::scoped_syscalls seam(fake);
  bpfprobe::prober p;  // its own cache: the shared one may hold real verdicts
  auto loops = select_for<compat_loops>(p);
  const auto* loop = loops.find("loop");
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->tier_name, "unrolled");
  ASSERT_EQ(loop->passed_over.size(), 2u);
  for (const auto& [name, v] : loop->passed_over) {
    EXPECT_NE(v.state, bpfprobe::status::supported) << name << ": " << v.reason;
    if (really_supported(real_loops, "loop", name)) {
      EXPECT_EQ(v.state, bpfprobe::status::unknown) << name << ": " << v.reason;
      EXPECT_EQ(v.err, EPERM) << name;
    }
  }

  auto dynptr = select_for<compat_dynptr>(p);
  for (const auto& c : dynptr.choices) {
    EXPECT_EQ(c.tier, BPFPROBE_TIER_UNAVAILABLE) << c.accessor;
    EXPECT_NE(c.v.state, bpfprobe::status::supported) << c.accessor << ": " << c.v.reason;
    const auto* r = real_dynptr.find(c.accessor);
    if (r && r->tier != BPFPROBE_TIER_UNAVAILABLE) {
      EXPECT_EQ(c.v.state, bpfprobe::status::unknown) << c.accessor << ": " << c.v.reason;
    }
  }
}

}  // namespace
