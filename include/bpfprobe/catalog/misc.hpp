// Miscellaneous capability probes: ISA levels, loops, limits, BTF kinds, global data, flags, ...
// Each row: documentation + a small function returning a verdict.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/sys/fork_gate.hpp>
#include <functional>
#include <vector>

namespace bpfprobe::probe {

namespace misc_detail {

// The program must load; a verifier rejection means the feature is missing.
inline classify::rules must_load(const context& ctx) { return ctx.rules({.log_proves_existence = false}); }

template <class Insns>
inline verdict load_socket_filter(const context& ctx, const Insns& prog, std::string_view name = {}) {
  auto fd = sys::prog_load({.type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = prog, .name = name});
  return classify::from_result(fd, must_load(ctx), "loaded");
}

inline verdict isa_v2(const context& ctx) {  // BPF_JLT and friends
  static constexpr auto p =
      insn::assemble(insn::mov64_imm(insn::r0, 0), insn::jmp_imm(BPF_JLT, insn::r0, 1, 0), insn::exit());
  return load_socket_filter(ctx, p);
}
inline verdict isa_v3(const context& ctx) {  // BPF_JMP32 class
  static constexpr auto p =
      insn::assemble(insn::mov64_imm(insn::r0, 0), insn::jmp32_imm(BPF_JLT, insn::r0, 1, 0), insn::exit());
  return load_socket_filter(ctx, p);
}
inline verdict isa_v4(const context& ctx) {  // sign-extending move and signed division (cpu=v4)
  static constexpr auto p =
      insn::assemble(insn::mov64_imm(insn::r0, 1), insn::raw(BPF_ALU64 | BPF_MOV | BPF_X, insn::r0, insn::r0, 8, 0),
                     insn::raw(BPF_ALU64 | BPF_DIV | BPF_K, insn::r0, 0, 1, 1), insn::exit());
  return load_socket_filter(ctx, p);
}
// BPF_STX|BPF_ATOMIC on a stack slot with `op` in imm (and `size`); R0 is set for BPF_CMPXCHG.
// Kernels before 5.12 take only imm 0 (BPF_XADD): "BPF_STX uses reserved fields".
inline verdict atomic_on_stack(const context& ctx, std::uint8_t size, std::int32_t op) {
  const auto p = insn::assemble(
      insn::mov64_imm(insn::r0, 0), insn::stx_mem(BPF_DW, insn::r10, insn::r0, -8), insn::mov64_imm(insn::r1, 1),
      insn::raw(BPF_STX | size | BPF_ATOMIC, insn::r10, insn::r1, -8, op), insn::mov64_imm(insn::r0, 0), insn::exit());
  return load_socket_filter(ctx, p);
}
inline verdict isa_atomic_fetch(const context& ctx) { return atomic_on_stack(ctx, BPF_DW, BPF_ADD | BPF_FETCH); }
inline verdict isa_atomic_xchg(const context& ctx) {
  verdict v = atomic_on_stack(ctx, BPF_DW, BPF_CMPXCHG);
  return v.supported() ? atomic_on_stack(ctx, BPF_W, BPF_XCHG) : v;
}
inline verdict isa_atomic_bitwise(const context& ctx) { return atomic_on_stack(ctx, BPF_W, BPF_OR); }

// Load-acquire and store-release (6.15): BPF_STX|BPF_ATOMIC with imm 0x100 / 0x110.
inline constexpr std::int32_t load_acq = 0x100, store_rel = 0x110;
inline verdict isa_load_acq_store_rel(const context& ctx) {
  const auto p =
      insn::assemble(insn::mov64_imm(insn::r1, 0), insn::stx_mem(BPF_DW, insn::r10, insn::r1, -8),
                     insn::raw(BPF_STX | BPF_DW | BPF_ATOMIC, insn::r10, insn::r1, -8, store_rel),
                     insn::raw(BPF_STX | BPF_DW | BPF_ATOMIC, insn::r0, insn::r10, -8, load_acq), insn::exit());
  return load_socket_filter(ctx, p);
}
inline verdict bounded_loops(const context& ctx) {
  static constexpr auto p = insn::assemble(insn::mov64_imm(insn::r0, 4), insn::alu64_imm(BPF_SUB, insn::r0, 1),
                                           insn::jmp_imm(BPF_JNE, insn::r0, 0, -2), insn::exit());
  return load_socket_filter(ctx, p);
}
inline verdict large_insn_limit(const context& ctx) {  // more than BPF_MAXINSNS (4096) instructions
  std::vector<bpf_insn> p(BPF_MAXINSNS + 1, insn::mov64_imm(insn::r0, 0));
  p.back() = insn::exit();
  auto fd = sys::prog_load({.type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = p, .log_size = 0});
  return classify::from_result(fd, must_load(ctx), "loaded 4097 instructions");
}

// The size limit is checked (E2BIG) before the instructions are copied (EFAULT from a null pointer),
// so the exact limit can be found without loading anything.
inline verdict insn_limit(const context& ctx) {
  auto at = [](std::uint32_t n) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insn_cnt = n;
    attr.license = sys::ptr_to_u64("GPL");
    auto r = sys::bpf_call(BPF_PROG_LOAD, attr);
    return r ? 0 : r.error().code;
  };
  int first = at(BPF_MAXINSNS);
  if (first != EFAULT) return classify::from_error({first, "BPF_PROG_LOAD insn_cnt=4096"}, ctx.rules());
  std::uint32_t lo = BPF_MAXINSNS, hi = 1u << 24;  // lo accepted; hi assumed rejected
  if (at(hi) != E2BIG) return verdict::unknown("no E2BIG even at 16M instructions", at(hi));
  for (std::uint32_t guess : {1000000u, BPF_MAXINSNS + 0u}) {  // the two known limits first
    if (guess > lo && guess < hi && at(guess) == EFAULT && at(guess + 1) == E2BIG) lo = guess, hi = guess + 1;
  }
  while (hi - lo > 1) {
    std::uint32_t mid = lo + (hi - lo) / 2;
    (at(mid) == EFAULT ? lo : hi) = mid;
  }
  return verdict::yes("largest accepted program", std::to_string(lo) + " instructions");
}

// Loads BTF built by `build`; the kernel's BTF log names an unknown kind or flag.
inline verdict btf_kind(const context& ctx, const std::function<void(struct btf*)>& build) {
  btf_builder b(btf__new_empty());
  build(b.get());
  auto fd = sys::btf_load(raw_bytes(b.get()));
  return classify::from_result(fd, must_load(ctx), "BTF loaded");
}

inline verdict global_data(const context& ctx) {
  auto map = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .value_size = 8});
  if (!map) return classify::from_error(map.error(), ctx.rules());
  const auto p = insn::assemble(insn::ld_map_value(insn::r1, map.value().get(), 0),
                                insn::st_mem(BPF_W, insn::r1, 0, 42), insn::mov64_imm(insn::r0, 0), insn::exit());
  return load_socket_filter(ctx, p);
}

inline verdict prog_name(const context& ctx) {
  static constexpr auto p = insn::return_zero();
  return load_socket_filter(ctx, p, "bpfprobe_name");
}

inline verdict map_flag(const context& ctx, std::uint32_t type, std::uint32_t flags) {
  auto fd = sys::map_create({.type = type, .value_size = 8, .max_entries = 1, .map_flags = flags});
  return classify::from_result(fd, ctx.rules({.log_proves_existence = false}), "created");
}

inline verdict sleepable(const context& ctx) {
  static constexpr auto p = insn::return_zero();
  if (auto type = ctx.prog_type("syscall")) {
    auto fd = sys::prog_load({.type = static_cast<std::uint32_t>(*type), .insns = p, .prog_flags = BPF_F_SLEEPABLE});
    if (fd) return verdict::yes("sleepable syscall program loaded");
  }
  load_setup s;
  attach_to_func(ctx, s, BPF_TRACE_FENTRY, targets::sleepable_functions);
  if (!s.gap.empty()) return verdict::unknown(s.gap);
  s.args.type = BPF_PROG_TYPE_TRACING;
  s.args.prog_flags = BPF_F_SLEEPABLE;
  s.args.insns = p;
  auto fd = sys::prog_load(s.args);
  verdict v = classify::from_result(fd, must_load(ctx), "sleepable fentry loaded");
  if (v.state == status::unsupported && v.err == EINVAL && fd.error().log.empty())
    v.reason = "BPF_F_SLEEPABLE rejected (EINVAL)";
  return v;
}

// A kprobe-type program with BPF_F_SLEEPABLE: the verifier took it once sleepable uprobes came
// (libbpf "uprobe.s"; only the attach refuses a sleepable program on a kprobe); before, it answered
// EINVAL with "... can be sleepable".
inline verdict sleepable_uprobe(const context& ctx) {
  static constexpr auto p = insn::return_zero();
  auto type = ctx.prog_type("kprobe");
  if (!type) return verdict::no("kernel does not define the kprobe program type", 0, ctx.enums().source);
  auto fd = sys::prog_load({.type = static_cast<std::uint32_t>(*type),
                            .insns = p,
                            .prog_flags = BPF_F_SLEEPABLE,
                            .kern_version = ctx.version_code()});
  if (fd) return verdict::yes("sleepable kprobe-type program loaded");
  verdict v = classify::from_result(fd, must_load(ctx), "loaded");
  if (v.state == status::unsupported && fd.error().log.find("can be sleepable") != std::string::npos)
    v.reason = "the verifier lets no kprobe-type program sleep";
  return v;
}

// Since 5.11 map memory is charged to the memory cgroup, not RLIMIT_MEMLOCK: a child process with a
// zero memlock limit can still create a map.
inline verdict memcg_accounting(const context& ctx) {
  sys::fork_guard forking(sys::fork_gate());
  pid_t pid = fork();
  if (pid != 0) forking.unlock();
  if (pid < 0) return verdict::unknown("fork failed", errno);
  if (pid == 0) {
    rlimit zero{0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &zero) != 0) _exit(100);
    auto fd = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .value_size = 4096, .max_entries = 16});
    _exit(fd ? 0 : std::min(fd.error().code, 99));
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st)) return verdict::unknown("probe child did not exit");
  int code = WEXITSTATUS(st);
  if (code == 0) return verdict::yes("map created with RLIMIT_MEMLOCK=0");
  if (code == EPERM && ctx.prog_type("socket_filter")) {
    // EPERM is also what an unprivileged caller gets: only conclusive when we may create maps at all.
    auto fd = sys::map_create({.type = BPF_MAP_TYPE_ARRAY});
    if (fd) return verdict::no("map creation fails with RLIMIT_MEMLOCK=0 (memlock accounting)", EPERM);
  }
  if (code == 100) return verdict::unknown("setrlimit failed in probe child");
  return classify::from_error({code, "BPF_MAP_CREATE with RLIMIT_MEMLOCK=0"}, ctx.rules());
}

inline verdict bpf_token(const context& ctx) {
  // An invalid bpffs fd: EBADF means the command exists, EINVAL that it does not.
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.token_create.bpffs_fd = static_cast<std::uint32_t>(-1);
  auto r = sys::bpf_fd_call(BPF_TOKEN_CREATE, attr, "BPF_TOKEN_CREATE");
  if (r) return verdict::yes("BPF_TOKEN_CREATE accepted");
  return classify::from_error(r.error(), ctx.rules({.log_proves_existence = false, .known_errnos = {EBADF}}));
}

}  // namespace misc_detail

struct misc_probe {
  doc info;  // first kernel and commit come from facts.hpp (feature_docs) by the key below
  std::function<verdict(const context&)> run;
};

// A row named `name` documented by the feature_docs entry `key`.
inline doc misc_doc(std::string_view name, std::string_view key) {
  const doc* d = find_doc(feature_docs, key);
  return d ? doc{name, d->first_kernel, d->commit} : doc{name, "", ""};
}

inline const std::vector<misc_probe>& misc_probes() {
  using namespace misc_detail;
  auto kind = [](auto build) { return [build](const context& ctx) { return btf_kind(ctx, build); }; };
  static const std::vector<misc_probe> rows = {
      {misc_doc("isa_v2", "isa_v2_jlt_jle_jslt_jsle"), isa_v2},
      {misc_doc("isa_v3", "isa_v3_jmp32"), isa_v3},
      {misc_doc("isa_v4", "isa_v4"), isa_v4},
      {misc_doc("isa_atomic_fetch", "isa_atomic_fetch"), isa_atomic_fetch},
      {misc_doc("isa_atomic_xchg", "isa_atomic_xchg"), isa_atomic_xchg},
      {misc_doc("isa_atomic_bitwise", "isa_atomic_bitwise"), isa_atomic_bitwise},
      {misc_doc("isa_load_acq_store_rel", "isa_load_acq_store_rel"), isa_load_acq_store_rel},
      {misc_doc("bounded_loops", "bounded_loops"), bounded_loops},
      {misc_doc("large_insn_limit", "insn_limit_1m"), large_insn_limit},
      {misc_doc("insn_limit", "insn_limit"), insn_limit},
      {misc_doc("btf_func", "btf_kind_func_func_proto"), kind([](struct btf* b) {
         btf__add_func(b, "f", BTF_FUNC_STATIC, btf__add_func_proto(b, btf__add_int(b, "int", 4, BTF_INT_SIGNED)));
       })},
      {misc_doc("btf_global_func", "btf_func_global_linkage"), kind([](struct btf* b) {
         btf__add_func(b, "f", BTF_FUNC_GLOBAL, btf__add_func_proto(b, btf__add_int(b, "int", 4, BTF_INT_SIGNED)));
       })},
      {misc_doc("btf_datasec", "btf_kind_var_datasec"), kind([](struct btf* b) {
         int var = btf__add_var(b, "x", BTF_VAR_GLOBAL_ALLOCATED, btf__add_int(b, "int", 4, BTF_INT_SIGNED));
         btf__add_datasec(b, ".data", 4);
         btf__add_datasec_var_info(b, var, 0, 4);
       })},
      {misc_doc("btf_float", "btf_kind_float"), kind([](struct btf* b) { btf__add_float(b, "float", 4); })},
      {misc_doc("btf_decl_tag", "btf_kind_decl_tag"), kind([](struct btf* b) {
         int var = btf__add_var(b, "x", BTF_VAR_GLOBAL_ALLOCATED, btf__add_int(b, "int", 4, BTF_INT_SIGNED));
         btf__add_decl_tag(b, "tag", var, -1);
       })},
      {misc_doc("btf_type_tag", "btf_kind_type_tag"), kind([](struct btf* b) {
         btf__add_ptr(b, btf__add_type_tag(b, "tag", btf__add_int(b, "int", 4, BTF_INT_SIGNED)));
       })},
      {misc_doc("btf_enum64", "btf_kind_enum64"), kind([](struct btf* b) {
         btf__add_enum64(b, "e", 8, false);
         btf__add_enum64_value(b, "big", 1ull << 40);
       })},
      {misc_doc("global_data", "global_data_pseudo_map_value"), global_data},
      {misc_doc("prog_name", "prog_name_attr"), prog_name},
      {misc_doc("sleepable", "sleepable_progs"), sleepable},
      {misc_doc("sleepable_uprobe", "sleepable_uprobe"), sleepable_uprobe},
      {misc_doc("memcg_accounting", "memcg_accounting"), memcg_accounting},
      {misc_doc("bpf_token", "bpf_token"), bpf_token},
      {misc_doc("map_flag_no_prealloc", "map_f_no_prealloc"),
       [](const context& c) { return map_flag(c, BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC); }},
      {misc_doc("map_flag_mmapable", "map_f_mmapable"),
       [](const context& c) { return map_flag(c, BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE); }},
      {misc_doc("map_flag_rdonly_prog", "map_f_rdonly_wronly_prog"),
       [](const context& c) { return map_flag(c, BPF_MAP_TYPE_ARRAY, BPF_F_RDONLY_PROG); }},
      {misc_doc("map_flag_wronly_prog", "map_f_rdonly_wronly_prog"),
       [](const context& c) { return map_flag(c, BPF_MAP_TYPE_ARRAY, BPF_F_WRONLY_PROG); }},
      {misc_doc("map_flag_inner_map", "map_f_inner_map"),
       [](const context& c) { return map_flag(c, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP); }},
  };
  return rows;
}

}  // namespace bpfprobe::probe
