// Per-program-type load set-up: what a tiny program of each type needs before the verifier will
// look at it (expected attach type, attach BTF id, flags, an extension target).
#pragma once

#include <bpf/btf.h>

#include <array>
#include <bpfprobe/catalog/targets.hpp>
#include <bpfprobe/insn/insn.hpp>
#include <bpfprobe/probe/context.hpp>
#include <bpfprobe/probe/privilege.hpp>
#include <bpfprobe/sys/bpf.hpp>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bpfprobe::probe {

struct load_setup {
  sys::prog_load_args args;          // insns are filled in by the caller
  std::vector<sys::unique_fd> keep;  // fds that args refer to
  std::vector<bpf_func_info> func_info;
  std::string note;  // what the set-up chose, e.g. "attach bpf_fentry_test1"
  std::string gap;   // why the set-up is incomplete (no BTF target found), if it is
  // Set when this set-up stands in for the usual one because the kernel refused that: the reason
  // ("not permitted (EPERM) ...") and its errno.
  std::string instead_of;
  int instead_of_err = 0;
};

// The first FUNC of `candidates` (a targets.hpp list) present in the running kernel's BTF.
inline std::optional<std::pair<std::string, std::uint32_t>> first_func(const context& ctx,
                                                                       std::span<const char* const> candidates) {
  if (!ctx.kernel_btf()) return std::nullopt;
  for (const char* c : candidates)
    if (auto id = ctx.kernel_btf()->find_func(c)) return std::make_pair(std::string(c), *id);
  return std::nullopt;
}
inline std::optional<std::pair<std::string, std::uint32_t>> first_func(const context& ctx,
                                                                       std::initializer_list<const char*> candidates) {
  return first_func(ctx, std::span<const char* const>(candidates.begin(), candidates.size()));
}

// The first btf_trace_<name> typedef of targets::tp_btf_tracepoints in kernel BTF: (name, type id).
inline std::optional<std::pair<std::string, std::uint32_t>> first_tp_btf_target(const context& ctx) {
  if (!ctx.kernel_btf()) return std::nullopt;
  for (const char* tp : targets::tp_btf_tracepoints)
    if (auto id = ctx.kernel_btf()->find(std::string("btf_trace_") + tp, BTF_KIND_TYPEDEF))
      return std::make_pair(std::string(tp), *id);
  return std::nullopt;
}

inline void attach_to_func(const context& ctx, load_setup& s, std::uint32_t attach_type,
                           std::span<const char* const> candidates) {
  s.args.expected_attach_type = attach_type;
  if (auto f = first_func(ctx, candidates)) {
    s.args.attach_btf_id = f->second;
    s.note = "attach target " + f->first;
  } else {
    s.gap = ctx.kernel_btf() ? "no attach target in kernel BTF" : "no kernel BTF for an attach target";
  }
}

struct btf_deleter {
  void operator()(struct btf* b) const noexcept { btf__free(b); }
};
using btf_builder = std::unique_ptr<struct btf, btf_deleter>;

inline std::span<const std::byte> raw_bytes(const struct btf* b) {
  std::uint32_t size = 0;
  const void* data = btf__raw_data(b, &size);
  return {static_cast<const std::byte*>(data), size};
}

// A program of ours whose global subprogram `int probe_target(struct __sk_buff *)` an extension
// (freplace) program replaces. The target is a subprogram, not the main function: from 6.12 the
// verifier refuses to replace a program's entry ("Cannot replace static functions") whatever its BTF
// linkage says, while a global subprogram may be replaced on every kernel with ext (5.6+).
inline void extension_target(load_setup& s) {
  btf_builder b(btf__new_empty());
  int i32 = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int skb = btf__add_struct(b.get(), "__sk_buff", 0);
  int proto = btf__add_func_proto(b.get(), i32);
  btf__add_func_param(b.get(), "ctx", btf__add_ptr(b.get(), skb));
  int main_func = btf__add_func(b.get(), "probe_main", BTF_FUNC_GLOBAL, proto);
  int func = btf__add_func(b.get(), "probe_target", BTF_FUNC_GLOBAL, proto);
  auto btf_fd = sys::btf_load(raw_bytes(b.get()), 0);
  if (!btf_fd) {
    s.gap = "extension target BTF rejected: " + btf_fd.error().describe();
    return;
  }
  // probe_main: call probe_target (r1, the context, passes through); r0 = 0; exit.
  // probe_target (insn 3): r0 = 0; if r0 != 0 { bpf_skb_pull_data(); } exit. The branch is dead (the
  // verifier never walks it) but the call in it marks the subprogram as one that changes packet data,
  // so extensions may call such helpers (bpf_clone_redirect, bpf_l3_csum_replace, ...): from 6.13
  // (backported to Debian 6.12) "Extension program changes packet data, while original does not".
  static constexpr std::array<bpf_insn, 8> prog = {insn::call_subprog(2),
                                                   insn::mov64_imm(insn::r0, 0),
                                                   insn::exit(),
                                                   insn::mov64_imm(insn::r0, 0),
                                                   insn::jmp_imm(BPF_JNE, insn::r0, 0, 1),
                                                   insn::exit(),
                                                   insn::call_helper(BPF_FUNC_skb_pull_data),
                                                   insn::exit()};
  const std::vector<bpf_func_info> target_info = {{0, static_cast<std::uint32_t>(main_func)},
                                                  {3, static_cast<std::uint32_t>(func)}};
  auto target = sys::prog_load(
      {.type = BPF_PROG_TYPE_SCHED_CLS, .insns = prog, .prog_btf_fd = btf_fd.value().get(), .func_info = target_info});
  if (!target) {
    s.gap = "extension target did not load: " + target.error().describe();
    return;
  }
  s.func_info = {{0, static_cast<std::uint32_t>(func)}};
  s.args.attach_prog_fd = target.value().get();
  s.args.attach_btf_id = static_cast<std::uint32_t>(func);
  s.args.prog_btf_fd = btf_fd.value().get();
  s.args.func_info = s.func_info;
  s.note = "extends a global subprogram of a sched_cls program of ours";
  s.keep.push_back(std::move(btf_fd).value());
  s.keep.push_back(std::move(target).value());
}

inline void struct_ops_member(const context& ctx, load_setup& s) {
  const auto* k = ctx.kernel_btf();
  if (!k) {
    s.gap = "no kernel BTF for a struct_ops type";
    return;
  }
  struct candidate {
    const char* type;
    const char* member;
  };
  for (auto [type, member] : {candidate{"tcp_congestion_ops", "ssthresh"}, candidate{"bpf_dummy_ops", "test_1"}}) {
    auto id = k->find_struct(type);
    if (!id) continue;
    auto idx = k->member_index(*id, member);
    if (!idx) continue;
    s.args.attach_btf_id = *id;
    s.args.expected_attach_type = *idx;
    s.note = std::string("member ") + type + "." + member;
    return;
  }
  s.gap = "no known struct_ops type in kernel BTF";
}

namespace load_setup_detail {
inline void kprobe(const context& ctx, load_setup& s) { s.args.kern_version = ctx.version_code(); }  // before 5.0
inline void inet4_connect(const context&, load_setup& s) { s.args.expected_attach_type = BPF_CGROUP_INET4_CONNECT; }
inline void getsockopt(const context&, load_setup& s) { s.args.expected_attach_type = BPF_CGROUP_GETSOCKOPT; }
inline void sk_lookup(const context&, load_setup& s) { s.args.expected_attach_type = BPF_SK_LOOKUP; }
inline void netfilter(const context&, load_setup& s) { s.args.expected_attach_type = BPF_NETFILTER; }
inline void sleepable(const context&, load_setup& s) { s.args.prog_flags = BPF_F_SLEEPABLE; }
inline void fentry(const context& ctx, load_setup& s) {
  attach_to_func(ctx, s, BPF_TRACE_FENTRY, targets::kernel_functions);
}
inline void lsm(const context& ctx, load_setup& s) { attach_to_func(ctx, s, BPF_LSM_MAC, targets::lsm_hooks); }
inline void ext(const context&, load_setup& s) { extension_target(s); }
}  // namespace load_setup_detail

// A type that needs more than the default request (4/4/1 map, "load return 0" program): its set-up
// function, by BTF enum name.
template <class Setup>
struct setup_row {
  std::string_view name;
  void (*setup)(const context&, Setup&);
};

template <class Setup>
inline void apply_setup_rows(std::span<const setup_row<Setup>> rows, const context& ctx, std::string_view name,
                             Setup& s) {
  for (const auto& row : rows)
    if (row.name == name) row.setup(ctx, s);
}

using load_setup_row = setup_row<load_setup>;

inline constexpr load_setup_row load_setup_rows[] = {
    {"kprobe", load_setup_detail::kprobe},
    {"cgroup_sock_addr", load_setup_detail::inet4_connect},
    {"cgroup_sockopt", load_setup_detail::getsockopt},
    {"sk_lookup", load_setup_detail::sk_lookup},
    {"netfilter", load_setup_detail::netfilter},
    {"syscall", load_setup_detail::sleepable},
    {"tracing", load_setup_detail::fentry},
    {"lsm", load_setup_detail::lsm},
    {"ext", load_setup_detail::ext},
    {"struct_ops", struct_ops_member},
};

// The set-up for one program type, by its BTF name. Types without a row (and newer ones) get none.
inline load_setup setup_for(const context& ctx, std::string_view type_name, std::uint32_t type_value) {
  load_setup s;
  s.args.type = type_value;
  apply_setup_rows<load_setup>(load_setup_rows, ctx, type_name, s);
  return s;
}

}  // namespace bpfprobe::probe
