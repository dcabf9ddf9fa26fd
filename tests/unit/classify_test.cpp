// Every row of the classification table (probe/classify.hpp) and every errno rule.
#include <gtest/gtest.h>

#include <bpfprobe/probe/classify.hpp>
#include <vector>

namespace bpfprobe {
namespace {

sys::error err(int code, std::string log = {}) { return {code, "BPF_PROG_LOAD", std::move(log), {}}; }

TEST(Classify, EveryLogRuleDecides) {
  for (const auto& rule : classify::log_rules) {
    std::string line = "0: (85) call x#1\n" + std::string(rule.needle) + " something " + std::string(rule.also) + "\n";
    for (int code : {EINVAL, EACCES, EPERM}) {
      verdict v = classify::from_error(err(code, line));
      EXPECT_EQ(v.state, rule.state) << rule.needle << " errno " << code;
      EXPECT_NE(v.evidence.find(rule.needle), std::string::npos) << "evidence is the deciding line";
      EXPECT_EQ(v.err, code);
    }
  }
}

TEST(Classify, ArgumentCheckAfterTheCallMeansSupported) {
  auto log =
      "0: R1=ctx() R10=fp0\n0: (85) call bpf_map_lookup_elem#1\nR1 type=ctx expected=map_ptr\nprocessed 1 insns\n";
  for (int code : {EACCES, EINVAL}) {
    verdict v = classify::from_error(err(code, log), {.must_reach = "#1"});
    EXPECT_EQ(v.state, status::supported);
    EXPECT_EQ(v.evidence, "R1 type=ctx expected=map_ptr");
  }
}

TEST(Classify, CallLineWithStateSuffixCountsAsReached) {
  auto log =
      "0: (85) call bpf_get_prandom_u32#7      ; R0_w=scalar()\nAt program exit the register R0 has unknown scalar "
      "value\n";
  EXPECT_EQ(classify::from_error(err(EINVAL, log), {.must_reach = "#7"}).state, status::supported);
  // "#7" must not match "#71".
  auto other = "0: (85) call bpf_x#71\nR1 !read_ok\n";
  EXPECT_EQ(classify::from_error(err(EINVAL, other), {.must_reach = "#7"}).state, status::unknown);
}

TEST(Classify, RejectionBeforeTheCallIsUnknown) {
  auto log = "Tracing programs must provide btf_id\nprocessed 0 insns\n";
  verdict v = classify::from_error(err(EINVAL, log), {.must_reach = "#1"});
  EXPECT_EQ(v.state, status::unknown);
  EXPECT_EQ(v.evidence, "Tracing programs must provide btf_id");
}

TEST(Classify, PermissionErrorsAreNeverUnsupported) {
  for (int code : {EPERM, EACCES}) {
    verdict v = classify::from_error(err(code), {.permission_hint = "lockdown=integrity"});
    EXPECT_EQ(v.state, status::unknown);
    EXPECT_NE(v.reason.find("lockdown=integrity"), std::string::npos);
  }
  // EPERM stays unknown even when a log seems to prove existence.
  EXPECT_EQ(classify::from_error(err(EPERM, "0: (85) call x#1\nfoo\n"), {.must_reach = "#1"}).state, status::unknown);
}

TEST(Classify, EmptyLogEinvalAndE2bigMeanUnsupported) {
  EXPECT_EQ(classify::from_error(err(EINVAL)).state, status::unsupported);
  EXPECT_EQ(classify::from_error(err(E2BIG)).state, status::unsupported);
}

TEST(Classify, ResourceAndOddErrnosAreUnknown) {
  for (int code : {ENOMEM, ENOSYS, EMFILE, EFAULT, EAGAIN, sys::ENOTSUPP_KERNEL, EBADF}) {
    EXPECT_EQ(classify::from_error(err(code)).state, status::unknown) << sys::errno_name(code);
  }
}

TEST(Classify, KnownErrnosProveExistence) {
  EXPECT_EQ(classify::from_error(err(EBADF), {.known_errnos = {EBADF}}).state, status::supported);
  EXPECT_EQ(classify::from_error(err(sys::ENOTSUPP_KERNEL), {.known_errnos = {sys::ENOTSUPP_KERNEL}}).state,
            status::supported);
}

TEST(Classify, MustLoadProbesTreatVerifierRejectionAsUnsupported) {
  auto log = "0: (bf) r0 = r0\nBPF_MOV uses reserved fields\n";
  verdict v = classify::from_error(err(EINVAL, log), {.log_proves_existence = false});
  EXPECT_EQ(v.state, status::unsupported);
  EXPECT_EQ(v.evidence, "BPF_MOV uses reserved fields");
}

// Each named errno set, row by row: exactly these values, no more.
TEST(Classify, NamedErrnoSetsHoldTheirRows) {
  using V = std::vector<int>;
  EXPECT_EQ(classify::cannot_carry_out, (V{EOPNOTSUPP, sys::ENOTSUPP_KERNEL}));
  EXPECT_EQ(classify::not_supported_here, (V{EINVAL, EOPNOTSUPP, sys::ENOTSUPP_KERNEL}));
  EXPECT_EQ(classify::request_refused, (V{EINVAL, EOPNOTSUPP, sys::ENOTSUPP_KERNEL, E2BIG}));
  EXPECT_EQ(classify::not_supported_here_and({ENOENT}), (V{EINVAL, EOPNOTSUPP, sys::ENOTSUPP_KERNEL, ENOENT}));
  EXPECT_EQ(classify::permission_denied, (V{EPERM, EACCES}));
}

// An attach request: every request_refused errno is unsupported, and EOPNOTSUPP/ENOTSUPP also
// when a log is present (the attach log says nothing about existence); permission and resource
// errors stay unknown.
TEST(Classify, AttachRequestRules) {
  for (int code : classify::request_refused) {
    EXPECT_EQ(classify::from_error(err(code), classify::attach_request()).state, status::unsupported)
        << sys::errno_name(code);
    EXPECT_EQ(classify::from_error(err(code, "some line\n"), classify::attach_request()).state, status::unsupported)
        << sys::errno_name(code);
  }
  for (int code : {EPERM, EACCES, ENOMEM, EBUSY, ENOENT, ESRCH})
    EXPECT_EQ(classify::from_error(err(code), classify::attach_request()).state, status::unknown)
        << sys::errno_name(code);
}

// A side step never proves absence, whatever the errno.
TEST(Classify, SideStepRulesNeverSayUnsupported) {
  for (int code : {EINVAL, E2BIG, EOPNOTSUPP, sys::ENOTSUPP_KERNEL, EPERM, EACCES, ENOENT, ENOMEM})
    EXPECT_EQ(classify::from_error(err(code), classify::side_step()).state, status::unknown) << sys::errno_name(code);
}

// permission_denied without verifier proof is what from_error reads as "cannot tell": unknown under
// every preset.
TEST(Classify, PermissionDeniedIsUnknownUnderEveryRuleSet) {
  for (int code : classify::permission_denied)
    for (const classify::rules& r : {classify::rules{}, classify::attach_request(), classify::side_step()})
      EXPECT_EQ(classify::from_error(err(code), r).state, status::unknown) << sys::errno_name(code);
}

}  // namespace
}  // namespace bpfprobe
