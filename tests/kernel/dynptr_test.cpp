// Dynptr facts on the running kernel: every kind of enum bpf_dynptr_type is reported, and each one
// the kernel can build (its constructor exists) is verified by a program that loads and runs.
#include <gtest/gtest.h>

#include <bpfprobe/catalog/dynptr.hpp>
#include <bpfprobe/prober/prober.hpp>

#include "kfunc_support.hpp"

namespace bpfprobe::testing {
namespace {

struct dynptr_fixture : ::testing::Test {
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "needs root to load BPF programs";
  }
  static section dynptr_section(prober& p) {
    return probe::dynptr_section(
        p.context(), {}, [&](std::string_view n) { return p.kfunc(n); }, 0);
  }
};

// The constructor of each kind with a program recipe, and whether it is a helper.
const std::map<std::string, std::pair<std::string, bool>> constructors = {
    {"local", {"bpf_dynptr_from_mem", true}},          {"ringbuf", {"bpf_ringbuf_reserve_dynptr", true}},
    {"skb", {"bpf_dynptr_from_skb", false}},           {"xdp", {"bpf_dynptr_from_xdp", false}},
    {"skb_meta", {"bpf_dynptr_from_skb_meta", false}},
};

TEST_F(dynptr_fixture, EveryKindIsReportedAndTheBuildableOnesRun) {
  auto kinds = kernel_enum("bpf_dynptr_type", "BPF_DYNPTR_TYPE_");
  if (kinds.empty()) GTEST_SKIP() << "no enum bpf_dynptr_type in kernel BTF (dynptrs came in 5.19)";
  auto helpers = kernel_enum("bpf_func_id", "BPF_FUNC_");
  prober p;
  auto s = dynptr_section(p);
  for (const auto& kind : kinds) {
    if (kind == "invalid") continue;
    const fact* f = find(s, kind);
    ASSERT_NE(f, nullptr) << "dynptr kind " << kind << " missing";
    EXPECT_EQ(*attr(*f, "kind"), "dynptr_kind");
    auto c = constructors.find(kind);
    if (c == constructors.end()) continue;  // newer kind: call probe of its constructor only
    bool has_ctor = c->second.second
                        ? std::find(helpers.begin(), helpers.end(), c->second.first.substr(4)) != helpers.end()
                        : kernel_has_func(c->second.first);
    if (!has_ctor) continue;
    EXPECT_EQ(f->v.state, status::supported) << kind << ": " << f->v.reason << " [" << f->v.evidence << "]";
    EXPECT_NE(f->v.evidence.find("test run: "), std::string::npos) << f->v.evidence;
    EXPECT_EQ(f->v.evidence.find("EINVAL"), std::string::npos) << "test run failed: " << f->v.evidence;
  }
}

// The packet kinds really see the test packet: bpf_dynptr_size is its length.
TEST_F(dynptr_fixture, PacketDynptrsSpanTheTestPacket) {
  prober p;
  for (const char* kind : {"skb", "xdp"}) {
    if (!kernel_has_func("bpf_dynptr_size") || !kernel_has_func(constructors.at(kind).first)) continue;
    verdict v = probe::probe_dynptr_use(p.context(), kind, "bpf_dynptr_size");
    ASSERT_EQ(v.state, status::supported) << kind << ": " << v.reason;
    EXPECT_NE(v.evidence.find("bpf_dynptr_size returned 64 on a 64-byte packet"), std::string::npos) << v.evidence;
  }
  if (kernel_has_func("bpf_dynptr_size")) {
    verdict v = probe::probe_dynptr_use(p.context(), "local", "bpf_dynptr_size");
    ASSERT_EQ(v.state, status::supported) << v.reason;
    EXPECT_NE(v.evidence.find("bpf_dynptr_size returned 16"), std::string::npos) << v.evidence;
  }
}

TEST_F(dynptr_fixture, HelpersAndKfuncsWithRecipesLoadWhenTheKernelHasThem) {
  auto helpers = kernel_enum("bpf_func_id", "BPF_FUNC_");
  prober p;
  auto s = dynptr_section(p);
  for (const auto& f : s) {
    if (f.v.state == status::unsupported) {
      // Unsupported only when the kernel lacks the function itself, or a rule says so.
      bool absent = f.v.reason.find("neither a helper") != std::string::npos;
      bool rule =
          f.v.reason.find("not available") != std::string::npos || f.v.reason.find("not allowed") != std::string::npos;
      EXPECT_TRUE(absent || rule) << f.name << ": " << f.v.reason;
      if (absent && *attr(f, "kind") == "kfunc") {
        EXPECT_FALSE(kernel_has_func(f.name)) << f.name;
      }
      if (absent && *attr(f, "kind") == "helper") {
        EXPECT_EQ(std::find(helpers.begin(), helpers.end(), f.name.substr(4)), helpers.end()) << f.name;
      }
    }
    if (*attr(f, "verified_by") == "program that uses it" && f.v.supported()) {
      EXPECT_NE(f.v.reason.find("loaded"), std::string::npos) << f.name;
    }
  }
  // Lazy queries give the section's verdicts.
  for (const char* name : {"local", "ringbuf", "bpf_dynptr_read", "bpf_dynptr_slice"}) {
    const fact* f = find(s, name);
    if (!f) continue;
    EXPECT_EQ(p.dynptr(name).state, f->v.state) << name;
  }
  EXPECT_EQ(p.dynptr("no_such_dynptr_fact").state, status::unknown);
}

TEST_F(dynptr_fixture, PermissionErrorsAreUnknown) {
  prober p;
  for (const auto& e : p.context().enums().prog_types) p.prog_type(e.name);
  failing_command eperm(BPF_PROG_LOAD, EPERM);
  sys::scoped_syscalls guard(eperm);
  for (const char* kind : {"local", "ringbuf", "skb"}) {
    verdict v = probe::probe_dynptr_use(p.context(), kind);
    if (v.reason.find("neither a helper") != std::string::npos) continue;  // kernel without it
    EXPECT_EQ(v.state, status::unknown) << kind << ": " << v.reason;
  }
}

TEST_F(dynptr_fixture, NothingIsLeftBehind) {
  auto before = take_leftovers();
  {
    prober p;
    dynptr_section(p);
  }
  EXPECT_EQ(left_behind(before), "");
}

}  // namespace
}  // namespace bpfprobe::testing
