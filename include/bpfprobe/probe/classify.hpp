// How a kernel answer becomes a verdict. This file is the single place where errno values and
// verifier log strings are interpreted; tests/unit/classify_test.cpp checks every row.
#pragma once

#include <algorithm>
#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/sys/result.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::classify {

// A verifier or BTF log line that settles the question, whatever the errno.
struct log_rule {
  std::string_view needle;  // substring of one log line
  std::string_view also;    // a second substring the same line must contain, or empty
  status state;
  std::string_view meaning;
};

// Wordings are those of upstream kernels; the first kernel that prints each is noted.
inline constexpr log_rule log_rules[] = {
    // Helper id beyond the kernel's __BPF_FUNC_MAX_ID (all kernels).
    {"invalid func ", "", status::unsupported, "helper unknown to this kernel"},
    // get_func_proto() returned NULL: the helper exists but not for this program type.
    // "unknown func" up to 6.4; "program of this type cannot use helper" in later kernels.
    {"unknown func ", "", status::unsupported, "helper not available to this program type"},
    {"program of this type cannot use helper ", "", status::unsupported, "helper not available to this program type"},
    // kfunc exists in BTF but is not registered for this program type.
    {"calling kernel function ", "is not allowed", status::unsupported, "kfunc not allowed for this program type"},
    {"kernel btf_id ", "is not a function", status::unsupported, "BTF id is not a kfunc"},
    {"kfunc calls are not supported", "", status::unsupported, "kfunc calls not supported"},
    {"cannot call kernel function", "", status::unsupported, "kfunc calls not supported"},
    // Before 5.13 a call with src_reg BPF_PSEUDO_KFUNC_CALL (or, before 5.16, a module kfunc's
    // non-zero off) is a call form the verifier does not know.
    {"BPF_CALL uses reserved fields", "", status::unsupported, "call form unknown to this verifier"},
    // Instruction set and program shape.
    {"unknown opcode ", "", status::unsupported, "instruction unknown to this verifier"},
    {"invalid BPF_ALU opcode", "", status::unsupported, "instruction unknown to this verifier"},
    {"invalid BPF_LD_IMM", "", status::unsupported, "ld_imm64 pseudo kind unknown to this verifier"},
    {"back-edge from insn", "", status::unsupported, "loops (back-edges) rejected"},
    {"unreachable insn", "", status::unsupported, "verifier rejected the program shape"},
    // "<func> is not sleepable": the verifier knows BPF_F_SLEEPABLE and checked the attach target
    // against its sleepable allow-list (Debian 5.10, without FUNCTION_ERROR_INJECTION, allows no
    // fentry target); a kernel without sleepable programs rejects the flag with no log (5.10).
    {" is not sleepable", "", status::supported,
     "BPF_F_SLEEPABLE known: the verifier checked the target against its sleepable allow-list"},
    // BTF loading.
    {"Invalid kind", "", status::unsupported, "BTF kind unknown to this kernel"},
    {"Invalid btf_info kind_flag", "", status::unsupported, "BTF kind_flag unknown to this kernel"},
    {"Invalid func linkage", "", status::unsupported, "BTF func linkage unknown to this kernel"},
};

// Named errno sets. Every caller that reads an errno as "this kernel cannot do it" or "cannot tell"
// refers to one of these; tests/unit/classify_test.cpp checks each row.

// EOPNOTSUPP and ENOTSUPP (524): a kernel that knows the request but cannot carry it out here (no
// fprobe, no trampoline on this arch/JIT, no native XDP in this driver, a config option missing).
inline const std::vector<int> cannot_carry_out{EOPNOTSUPP, sys::ENOTSUPP_KERNEL};

// The kernel's "not supported here": EINVAL from a kernel that does not know the command, type,
// attach type or flag, plus cannot_carry_out. Attach fallbacks, link probes and decide/ all refer to
// this one set, adding what is particular to them.
inline const std::vector<int> not_supported_here = [] {
  std::vector<int> out{EINVAL};
  out.insert(out.end(), cannot_carry_out.begin(), cannot_carry_out.end());
  return out;
}();

inline std::vector<int> not_supported_here_and(std::initializer_list<int> more) {
  std::vector<int> out = not_supported_here;
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

// A refused request (attach, link, map or program creation through libbpf): not_supported_here, and
// E2BIG for attr fields this kernel does not know.
inline const std::vector<int> request_refused = not_supported_here_and({E2BIG});

// No permission: never proof of absence. Unknown, unless (EACCES only) a verifier log proves the
// verifier got past the part under test.
inline const std::vector<int> permission_denied{EPERM, EACCES};

// Which errno values decide what when the log does not.
struct rules {
  // A log that reached the verifier proves the thing exists (prog types, helpers whose call was seen).
  bool log_proves_existence = true;
  // When set, the log must contain this text, not followed by a digit, for log_proves_existence to
  // hold (e.g. "#12" from the call line "0: (85) call bpf_x#12").
  std::string must_reach;
  // errno values (with or without a log) that prove existence: EBADF for invalid-fd probes, 524, ...
  std::vector<int> known_errnos;
  // errno values without a deciding log that prove absence.
  std::vector<int> absent_errnos{EINVAL, E2BIG};
  // Added to the reason of EPERM/EACCES verdicts (e.g. "lockdown=confidentiality").
  std::string permission_hint;
  // Replaces the generic EPERM reason when the caller knows what was missing (probe/privilege.hpp).
  std::string permission_reason;
};

// Named rule sets for from_error (context::rules() adds the permission hints of the host).
// An attach or link request: its errno says whether this kernel can do it (request_refused).
inline rules attach_request() { return {.log_proves_existence = false, .absent_errnos = request_refused}; }
// A step around the thing under test (set-up, opening or reading what was made): its errno never
// proves absence.
inline rules side_step() { return {.log_proves_existence = false, .absent_errnos = {}}; }

// The first log line a rule matches, if any.
inline const log_rule* match_rule(std::string_view log, std::string_view* line_out = nullptr) {
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    for (const auto& r : log_rules) {
      if (line.find(r.needle) == std::string_view::npos) continue;
      if (!r.also.empty() && line.find(r.also) == std::string_view::npos) continue;
      if (line_out) *line_out = line;
      return &r;
    }
    pos = end + 1;
  }
  return nullptr;
}

// The line that most likely explains a rejection: the last one that is not a statistics line.
inline std::string deciding_line(std::string_view log) {
  std::string_view best;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    bool stats = line.starts_with("processed ") || line.starts_with("verification time") ||
                 line.starts_with("stack depth") || line.starts_with("max_states_per_insn") || line.empty();
    if (!stats) best = line;
    pos = end + 1;
  }
  return std::string(best);
}

// `token` occurs in `log` and the character after it is not a digit.
inline bool contains_token(std::string_view log, std::string_view token) {
  for (auto pos = log.find(token); pos != std::string_view::npos; pos = log.find(token, pos + 1)) {
    auto after = pos + token.size();
    if (after >= log.size() || log[after] < '0' || log[after] > '9') return true;
  }
  return false;
}

inline bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

inline std::string errno_reason(int err) {
  switch (err) {
    case EPERM: return "not permitted (EPERM): needs CAP_BPF/CAP_SYS_ADMIN, or blocked by lockdown/LSM";
    case EACCES: return "access denied (EACCES) without verifier proof";
    case ENOMEM: return "out of memory or memlock rlimit (ENOMEM)";
    case ENOSYS: return "bpf() not available (ENOSYS): no CONFIG_BPF_SYSCALL, or filtered by seccomp";
    case EMFILE: return "out of file descriptors (EMFILE)";
    case EAGAIN: return "resource temporarily unavailable (EAGAIN)";
    case EFAULT: return "bad address (EFAULT)";
    case ENOSPC: return "log buffer too small (ENOSPC)";
    default: return "unexpected " + sys::errno_name(err);
  }
}

// The verdict for a failed kernel call.
inline verdict from_error(const sys::error& e, const rules& r = {}) {
  std::string_view line;
  if (!e.log.empty()) {
    if (const log_rule* rule = match_rule(e.log, &line))
      return {rule->state, std::string(rule->meaning), e.code, std::string(line)};
  }
  if (contains(r.known_errnos, e.code))
    return verdict::yes("kernel knows it (" + sys::errno_name(e.code) + ")", e.describe());
  bool has_log = !e.log.empty() && !deciding_line(e.log).empty();
  bool reached = has_log && (r.must_reach.empty() || contains_token(e.log, r.must_reach));
  // The verifier's argument checks answer EACCES or EINVAL; either way it got past the part under test.
  if (r.log_proves_existence && reached && e.code != EPERM)
    return verdict::yes("verifier reached it, then rejected the test program for another reason", deciding_line(e.log));
  if (contains(permission_denied, e.code)) {
    std::string reason = e.code == EPERM && !r.permission_reason.empty() ? r.permission_reason : errno_reason(e.code);
    if (!r.permission_hint.empty()) reason += "; " + r.permission_hint;
    return verdict::unknown(std::move(reason), e.code, deciding_line(e.log));
  }
  if (has_log && r.log_proves_existence)
    return verdict::unknown("verifier rejected the program before reaching the part under test", e.code,
                            deciding_line(e.log));
  if (contains(r.absent_errnos, e.code)) {
    std::string reason = e.code == E2BIG ? "kernel rejected attributes it does not know (E2BIG)"
                                         : "kernel rejected it (" + sys::errno_name(e.code) + ")";
    return verdict::no(std::move(reason), e.code, has_log ? deciding_line(e.log) : e.describe());
  }
  return verdict::unknown(errno_reason(e.code), e.code, has_log ? deciding_line(e.log) : e.describe());
}

template <class T>
inline verdict from_result(const sys::result<T>& res, const rules& r = {}, std::string ok_reason = {}) {
  if (res) return verdict::yes(std::move(ok_reason));
  return from_error(res.error(), r);
}

}  // namespace bpfprobe::classify
