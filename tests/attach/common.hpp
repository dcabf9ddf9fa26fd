// Shared by the attach tests: hand-assembled counter programs (no clang needed, so they also run
// inside initramfs VMs), the shared prober, and kernel queries that prove what is attached.
#pragma once

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpfprobe/attach/attach.hpp>
#include <bpfprobe/bpfprobe.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <string>
#include <vector>

namespace bpfprobe::testing {

// One prober for the whole test binary: verdicts are probed once and cached.
inline prober& shared_prober() {
  static prober p;
  return p;
}

inline const decide::lookup& facts() {
  static decide::lookup f = decide::from(shared_prober());
  return f;
}

inline bool is_root() { return geteuid() == 0; }

#define BPFPROBE_REQUIRE_ROOT() \
  if (!::bpfprobe::testing::is_root()) GTEST_SKIP() << "needs root"

// Skips unless the decide layer says `path` of `c` is supported here, with its reason.
#define BPFPROBE_REQUIRE_PATH(c, path)                                                             \
  do {                                                                                             \
    const auto* cand_ = (c).find(path);                                                            \
    ASSERT_NE(cand_, nullptr) << "no candidate " << (path) << " for " << (c).hook;                 \
    if (!cand_->v.supported())                                                                     \
      GTEST_SKIP() << (c).hook << "/" << (path) << " is " << ::bpfprobe::to_string(cand_->v.state) \
                   << " on this kernel: " << cand_->v.reason;                                      \
  } while (0)

// An array map of one u64 counter.
inline sys::unique_fd counter_map() {
  auto m = sys::map_create(
      {.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1, .name = "attach_test"});
  EXPECT_TRUE(m) << (m ? "" : m.error().describe());
  return m ? std::move(m).value() : sys::unique_fd();
}

inline std::uint64_t counter(const sys::unique_fd& map) {
  std::uint32_t key = 0;
  std::uint64_t value = 0;
  auto r = sys::map_lookup(map.get(), &key, &value);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return value;
}

using program = std::vector<bpf_insn>;

inline void add(program& p, const bpf_insn& i) { p.push_back(i); }
template <std::size_t N>
inline void add(program& p, const std::array<bpf_insn, N>& xs) {
  p.insert(p.end(), xs.begin(), xs.end());
}

// Conditions that must hold for the counter to count; each jumps to the end when it fails. They
// are emitted first, so they may use r1 (the context) and clobber r0-r5.
struct filter {
  enum kind { none, this_process, ethertype_xdp, ethertype_skb } what = none;
  std::uint16_t ethertype = 0;  // host order
};

inline constexpr std::uint16_t test_ethertype = 0x88B5;  // IEEE local experimental

// "if (filter) counter[0] += 1; return ret;" with an atomic add.
inline program counting_program(int map_fd, std::int32_t ret, filter f = {}) {
  using namespace insn;
  program p;
  std::vector<std::size_t> exits;  // jumps to patch to the final "r0 = ret"
  auto jump_out = [&](std::uint8_t op, reg r, std::int32_t imm) {
    exits.push_back(p.size());
    add(p, jmp_imm(op, r, imm, 0));
  };
  std::uint16_t be = static_cast<std::uint16_t>((f.ethertype >> 8) | (f.ethertype << 8));
  switch (f.what) {
    case filter::none: break;
    case filter::this_process:  // bpf_get_current_pid_tgid() >> 32 == our tgid
      add(p, call_helper(BPF_FUNC_get_current_pid_tgid));
      add(p, alu64_imm(BPF_RSH, r0, 32));
      jump_out(BPF_JNE, r0, static_cast<std::int32_t>(::getpid()));
      break;
    case filter::ethertype_xdp:  // data + 14 <= data_end && eth->h_proto == ethertype
      add(p, ldx_mem(BPF_W, r2, r1, offsetof(xdp_md, data)));
      add(p, ldx_mem(BPF_W, r3, r1, offsetof(xdp_md, data_end)));
      add(p, mov64_reg(r4, r2));
      add(p, alu64_imm(BPF_ADD, r4, 14));
      exits.push_back(p.size());
      add(p, raw(BPF_JMP | BPF_JGT | BPF_X, r4, r3, 0, 0));
      add(p, ldx_mem(BPF_H, r5, r2, 12));
      jump_out(BPF_JNE, r5, be);
      break;
    case filter::ethertype_skb:  // skb->protocol (network order) == ethertype
      add(p, ldx_mem(BPF_W, r2, r1, offsetof(__sk_buff, protocol)));
      jump_out(BPF_JNE, r2, be);
      break;
  }
  add(p, st_mem(BPF_W, r10, -4, 0));
  add(p, mov64_reg(r2, r10));
  add(p, alu64_imm(BPF_ADD, r2, -4));
  add(p, ld_map_fd(r1, map_fd));
  add(p, call_helper(BPF_FUNC_map_lookup_elem));
  exits.push_back(p.size());
  add(p, jmp_imm(BPF_JEQ, r0, 0, 0));
  add(p, mov64_imm(r1, 1));
  add(p, raw(BPF_STX | BPF_ATOMIC | BPF_DW, r0, r1, 0, BPF_ADD));
  std::size_t end = p.size();
  for (auto at : exits) p[at].off = static_cast<std::int16_t>(end - at - 1);
  add(p, mov64_imm(r0, ret));
  add(p, exit());
  return p;
}

struct load_spec {
  std::uint32_t type = 0;
  std::uint32_t expected_attach_type = 0;
  std::uint32_t attach_btf_id = 0;
};

inline sys::result<sys::unique_fd> load(const load_spec& s, const program& p) {
  sys::prog_load_args a;
  a.type = s.type;
  a.insns = p;
  a.expected_attach_type = s.expected_attach_type;
  a.attach_btf_id = s.attach_btf_id;
  a.kern_version = shared_prober().context().version_code();
  a.name = "attach_test";
  a.log_size = 64 * 1024;
  return sys::prog_load(a);
}

inline std::string describe(const sys::error& e) {
  std::string d = e.describe();
  if (!e.log.empty()) d += "\n" + e.log;
  return d;
}

inline std::uint32_t prog_id(int fd) {
  bpf_prog_info info{};
  auto r = sys::obj_info(fd, info);
  EXPECT_TRUE(r);
  return info.id;
}

// Does a link with this id still exist?
inline bool link_exists(std::uint32_t id) {
  auto fd = sys::fd_by_id(sys::object_kind::link, id);
  return static_cast<bool>(fd);
}

// BPF_TASK_FD_QUERY on one of our fds: the program attached to a perf event (4.16).
struct task_fd_info {
  std::uint32_t prog_id = 0;
  std::uint32_t fd_type = 0;
  std::string name;
};
inline sys::result<task_fd_info> task_fd_query(int fd) {
  char buf[256] = {};
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.task_fd_query.pid = static_cast<std::uint32_t>(::getpid());
  attr.task_fd_query.fd = static_cast<std::uint32_t>(fd);
  attr.task_fd_query.buf = sys::ptr_to_u64(buf);
  attr.task_fd_query.buf_len = sizeof(buf);
  auto r = sys::bpf_call(BPF_TASK_FD_QUERY, attr);
  if (!r) return r.error();
  return task_fd_info{attr.task_fd_query.prog_id, attr.task_fd_query.fd_type, buf};
}

// Every path of a choice that the test should run: "" (the chosen one, no policy) plus each candidate.
inline std::string attempts_of(const attach::attachment& a) { return attach::describe(a.attempts()); }

// The path a parameterised attach test takes: `forced`, or (empty) the one decide/ chooses. Skips
// unless that path is supported here, with the deciding reason(s).
#define BPFPROBE_REQUIRE_WANTED(want, c, forced)                                \
  const std::string want = (forced).empty() ? (c).chosen : std::string(forced); \
  if (want.empty()) GTEST_SKIP() << ::bpfprobe::testing::no_path_reasons(c);    \
  BPFPROBE_REQUIRE_PATH(c, want)

inline std::string no_path_reasons(const decide::choice& c) {
  std::string out = "no " + c.hook + " path supported on this kernel:";
  for (const auto& cand : c.candidates) out += "\n  " + cand.path + ": " + cand.v.reason;
  return out;
}

// A policy forcing `path`, or (empty) leaving the choice to decide/.
inline attach::policy forcing(const std::string& path) {
  return path.empty() ? attach::policy{} : attach::policy::only(path);
}

// Programs a test loads for the paths it may take, open until the test ends. A load the forced
// path needs (`required`) must succeed; a failed one only the chosen path might use is left out.
struct loaded_programs {
  std::vector<sys::unique_fd> keep;
  void take(sys::result<sys::unique_fd> p, int& slot, bool required) {
    if (required) {
      ASSERT_TRUE(p) << describe(p.error());
    }
    if (!p) return;
    slot = p.value().get();
    keep.push_back(std::move(p).value());
  }
};

}  // namespace bpfprobe::testing
