// Iterator probes.
// - seq_file targets (5.8, de4e05cac46d): the kernel has target <t> when its BTF has both
//   `struct bpf_iter__<t>` (the program's context) and the FUNC `bpf_iter_<t>` (the attach point).
//   Verified end to end: a BPF_TRACE_ITER program that writes one byte per element is loaded, an iter
//   link created (with a map, task or cgroup parameter where the target takes one), BPF_ITER_CREATE
//   opened and read once.
// - open-coded iterators (6.4, 06accc8779c1): kfunc triples bpf_iter_<x>_{new,next,destroy};
//   bpf_iter_num and bpf_iter_bits are verified by a loop that loads and runs, the others by a call
//   probe of their _new.
// - callback iteration: bpf_loop (5.17, e6f2dd0f8067) and bpf_for_each_map_elem (5.13, 69c087ba6225)
//   with a static callback subprogram (BPF_PSEUDO_FUNC) that loads and runs.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/catalog/map_types.hpp>
#include <bpfprobe/insn/builder.hpp>
#include <bpfprobe/probe/fact.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/usage.hpp>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/link.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bpfprobe::probe {

struct iter_target {
  std::string name;       // "task"
  std::uint32_t func_id;  // BTF id of FUNC bpf_iter_<name>
};

// Every seq_file iterator target in `k` (one pass over the types), sorted by name.
inline std::vector<iter_target> iterator_targets(const btf::kernel_btf& k) {
  const struct btf* b = k.get();
  std::vector<std::string> ctx_structs;
  std::map<std::string, std::uint32_t, std::less<>> funcs;
  for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    std::string_view name = btf__name_by_offset(b, t->name_off);
    if (!btf::is_identifier(name)) continue;  // never from a sane BTF; it must not reach output
    if (btf_is_struct(t) && name.starts_with("bpf_iter__"))
      ctx_structs.emplace_back(name.substr(10));
    else if (btf_is_func(t) && name.starts_with("bpf_iter_"))
      funcs.emplace(name.substr(9), id);
  }
  std::vector<iter_target> out;
  for (const auto& s : ctx_structs)
    if (auto it = funcs.find(s); it != funcs.end()) out.push_back({s, it->second});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name == b.name; }),
            out.end());
  return out;
}

namespace iter_detail {

using namespace insn;

// ctx->meta->seq, then bpf_seq_write(seq, "x", 1): one byte per element (and per final call).
inline constexpr auto write_one_byte =
    assemble(ldx_mem(BPF_DW, r2, r1, 0),  // r2 = ctx->meta
             ldx_mem(BPF_DW, r1, r2, 0),  // r1 = meta->seq
             st_mem(BPF_B, r10, -8, 'x'), mov64_reg(r2, r10), alu64_imm(BPF_ADD, r2, -8), mov64_imm(r3, 1),
             call_helper(BPF_FUNC_seq_write), mov64_imm(r0, 0), exit());

// Whether `union bpf_iter_link_info` of the running kernel has `member` (task: 6.1, cgroup: 6.1).
inline bool link_info_has(const context& ctx, std::string_view member) {
  const auto* k = ctx.kernel_btf();
  if (!k) return false;
  auto id = k->find("bpf_iter_link_info", BTF_KIND_UNION);
  return id && k->member_index(*id, member).has_value();
}

}  // namespace iter_detail

// The outcome of reading one target: the verdict, and what was read with which parameters.
struct iter_read {
  verdict v;
  long bytes = -1;     // read() result, -1 when not reached
  std::string params;  // "map fd (array)", "tid 1234", "cgroup fd /sys/fs/cgroup, self only"
};

// Loads, links, opens and reads target `t` once. Everything it creates is closed on return.
inline iter_read read_iterator_once(const context& ctx, const iter_target& t) {
  using namespace iter_detail;
  iter_read out;
  auto tracing = ctx.prog_type("tracing");
  auto iter_attach = ctx.attach_type("trace_iter");
  if (!tracing || !iter_attach) {
    out.v = verdict::no("kernel has no tracing programs or BPF_TRACE_ITER attach type", 0, ctx.enums().source);
    return out;
  }
  auto prog = sys::prog_load({.type = static_cast<std::uint32_t>(*tracing),
                              .insns = write_one_byte,
                              .expected_attach_type = static_cast<std::uint32_t>(*iter_attach),
                              .attach_btf_id = t.func_id,
                              .name = "bpfpx_iter"});
  if (!prog) {
    out.v = must_load_verdict(ctx, prog.error());
    add_evidence(out.v, "load iter/" + t.name);
    return out;
  }

  // Parameters: targets that iterate one map, task or cgroup.
  sys::iter_params params;
  sys::unique_fd param_fd;
  std::vector<sys::unique_fd> keep;
  auto use_map = [&](sys::result<sys::unique_fd> m, const char* what) -> bool {
    if (!m) {
      out.v = verdict::unknown(std::string("could not create the ") + what + " map to iterate: " + m.error().describe(),
                               m.error().code);
      return false;
    }
    param_fd = std::move(m).value();
    params.map_fd = param_fd.get();
    out.params = std::string("map fd (") + what + ")";
    return true;
  };
  if (t.name == "bpf_map_elem") {
    if (!use_map(sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .max_entries = 2, .name = "bpfpx_iter"}), "array"))
      return out;
  } else if (t.name == "sockmap") {
    if (!use_map(sys::map_create({.type = BPF_MAP_TYPE_SOCKMAP, .name = "bpfpx_iter"}), "sockmap")) return out;
  } else if (t.name == "bpf_sk_storage_map") {
    map_setup s = map_setup_for(ctx, "sk_storage", BPF_MAP_TYPE_SK_STORAGE);
    if (!s.gap.empty()) {
      out.v = verdict::unknown("sk_storage map set-up: " + s.gap);
      return out;
    }
    keep = std::move(s.keep);
    s.args.name = "bpfpx_iter";
    if (!use_map(sys::map_create(s.args), "sk_storage")) return out;
  } else if ((t.name == "task" || t.name == "task_file" || t.name == "task_vma") && link_info_has(ctx, "task")) {
    params.tid = static_cast<std::uint32_t>(::getpid());
    out.params = "tid " + std::to_string(params.tid) + " (this process)";
  } else if (t.name == "cgroup") {
    params.order = BPF_CGROUP_ITER_SELF_ONLY;
    out.params = "default cgroup root, self only";
    if (auto root = sys::cgroup2_mount()) {
      int fd = ::open(root.value().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        param_fd.reset(fd);
        params.cgroup_fd = fd;
        out.params = "cgroup fd " + root.value() + ", self only";
      }
    }
  }

  auto link = sys::iter_link_create(prog.value().get(), params, static_cast<std::uint32_t>(*iter_attach));
  if (!link) {
    out.v = classify::from_error(link.error(), ctx.rules(classify::side_step()));
    add_evidence(out.v, "BPF_LINK_CREATE iter/" + t.name + (out.params.empty() ? "" : " with " + out.params));
    return out;
  }
  auto iter = sys::iter_create(link.value().get());
  if (!iter) {
    out.v = classify::from_error(iter.error(), ctx.rules(classify::side_step()));
    return out;
  }
  char buf[4096];
  ssize_t n;
  do n = ::read(iter.value().get(), buf, sizeof(buf));
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    out.v = classify::from_error({err, "read iter/" + t.name, {}, {}}, ctx.rules(classify::side_step()));
    return out;
  }
  out.bytes = n;
  out.v = verdict::yes("iter link created and read",
                       "read " + std::to_string(n) + " bytes" + (out.params.empty() ? "" : " with " + out.params));
  return out;
}

namespace iter_detail {

// The stack slot of an open-coded iterator: its struct size from BTF, rounded up to 8.
inline std::optional<std::int16_t> iter_slot(const context& ctx, const std::string& family) {
  if (!ctx.kernel_btf()) return std::nullopt;
  auto id = ctx.kernel_btf()->find_struct(family);
  if (!id) return std::nullopt;
  auto size = ctx.kernel_btf()->type_size(*id);
  if (!size || *size == 0 || *size > 256) return std::nullopt;
  return static_cast<std::int16_t>(-static_cast<int>((*size + 7) / 8 * 8));
}

// A program type that can be test run without input: syscall (5.14), else socket_filter (load only).
inline std::pair<std::string, std::uint32_t> runnable_type(const context& ctx) {
  if (auto t = ctx.prog_type("syscall")) return {"syscall", static_cast<std::uint32_t>(*t)};
  return {"socket_filter", BPF_PROG_TYPE_SOCKET_FILTER};
}

// Loads `insns` as the runnable type (with BTF func info when given) and test runs it.
inline verdict load_and_run(const context& ctx, std::span<const bpf_insn> insns, const std::string& what,
                            int btf_fd = 0, std::span<const bpf_func_info> func_info = {}) {
  auto [type_name, type] = runnable_type(ctx);
  load_setup s = setup_for(ctx, type_name, type);
  s.args.insns = insns;
  s.args.prog_btf_fd = btf_fd;
  s.args.func_info = func_info;
  s.args.name = "bpfpx_loop";
  auto fd = sys::prog_load(s.args);
  verdict v = must_load_verdict(ctx, fd, "a " + type_name + " program using " + what + " loaded");
  if (!v.supported()) return v;
  if (type_name != "syscall") return v;
  auto run = sys::prog_test_run(fd.value().get(), {.repeat = 0});
  add_evidence(v, run ? "test run returned " + std::to_string(run.value()) : "test run: " + run.error().describe());
  return v;
}

}  // namespace iter_detail

// bpf_iter_num / bpf_iter_bits: new; while (next) count++; destroy; return count (3 expected).
inline verdict probe_open_iterator_loop(const context& ctx, const std::string& family) {
  using namespace iter_detail;
  const auto* k = ctx.kernel_btf();
  if (!k) return verdict::unknown("no kernel BTF to find " + family + " kfuncs in");
  auto fn = [&](const char* suffix) { return k->find_func(family + suffix); };
  auto nw = fn("_new"), nx = fn("_next"), ds = fn("_destroy");
  if (!nw || !nx || !ds) return verdict::no("no " + family + "_new/_next/_destroy FUNCs in kernel BTF", 0, k->path());
  auto slot = iter_slot(ctx, family);
  if (!slot) return verdict::unknown("no struct " + family + " in kernel BTF for the iterator's stack slot");
  const std::int16_t words = static_cast<std::int16_t>(*slot - 8);  // bpf_iter_bits: one u64 of bits
  builder b;
  b(mov64_imm(r6, 0)).stack_addr(r1, *slot);
  if (family == "bpf_iter_num") {
    b(mov64_imm(r2, 0))(mov64_imm(r3, 3));
  } else {  // bpf_iter_bits(it, const u64 *unsafe_ptr__ign, u32 nr_words) over 0b1011
    b(st_mem(BPF_DW, r10, words, 0xb)).stack_addr(r2, words)(mov64_imm(r3, 1));
  }
  b(call_kfunc(static_cast<std::int32_t>(*nw)));
  std::size_t loop = b.here();
  b.stack_addr(
      r1, *slot)(call_kfunc(static_cast<std::int32_t>(*nx)))(jmp_imm(BPF_JEQ, r0, 0, 2))(alu64_imm(BPF_ADD, r6, 1));
  b(ja(static_cast<std::int16_t>(static_cast<std::int64_t>(loop) - static_cast<std::int64_t>(b.here()) - 1)));
  b.stack_addr(r1, *slot)(call_kfunc(static_cast<std::int32_t>(*ds)))(mov64_reg(r0, r6))(exit());
  verdict v = load_and_run(ctx, b.insns(), family + "_new/_next/_destroy in a loop");
  if (v.supported()) v.reason += " (3 iterations expected)";
  return v;
}

// bpf_loop(3, cb, NULL, 0) or bpf_for_each_map_elem(array of 2, cb, NULL, 0); returns the count.
inline verdict probe_callback_iteration(const context& ctx, std::string_view helper) {
  using namespace iter_detail;
  auto id = btf::kernel_enums::value_of(ctx.enums().helpers, helper);
  if (!id) return verdict::no("kernel does not define this helper", 0, ctx.enums().source);
  bool each = helper == "bpf_for_each_map_elem";
  // BTF for the two functions: callbacks must be static subprograms with func info.
  btf_builder bt(btf__new_empty());
  int i32 = btf__add_int(bt.get(), "int", 4, BTF_INT_SIGNED);
  int vp = btf__add_ptr(bt.get(), 0);
  int main_proto = btf__add_func_proto(bt.get(), i32);
  btf__add_func_param(bt.get(), "ctx", vp);
  int main_fn = btf__add_func(bt.get(), "probe_main", BTF_FUNC_STATIC, main_proto);
  int cb_proto = btf__add_func_proto(bt.get(), i32);
  static constexpr const char* each_params[] = {"map", "key", "value", "ctx"};
  static constexpr const char* loop_params[] = {"index", "ctx"};
  for (const char* p : each ? std::span<const char* const>(each_params) : std::span<const char* const>(loop_params))
    btf__add_func_param(bt.get(), p, std::string_view(p) == "index" ? i32 : vp);
  int cb_fn = btf__add_func(bt.get(), "probe_cb", BTF_FUNC_STATIC, cb_proto);
  auto btf_fd = sys::btf_load(raw_bytes(bt.get()), 0);
  if (!btf_fd) return verdict::unknown("program BTF rejected: " + btf_fd.error().describe(), btf_fd.error().code);
  sys::unique_fd map;
  builder b;
  if (each) {
    auto m = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .max_entries = 2, .name = "bpfpx_each"});
    if (!m) return classify::from_error(m.error(), ctx.rules());
    map = std::move(m).value();
    b(ld_map_fd(r1, map.get()));
  } else {
    b(mov64_imm(r1, 3));
  }
  std::size_t ld = b.here();
  b(ld_func(r2, 0))(mov64_imm(r3, 0))(mov64_imm(r4, 0))(call_helper(static_cast<std::int32_t>(*id)))(exit());
  std::size_t cb = b.here();
  b(mov64_imm(r0, 0))(exit());
  b[ld].imm = static_cast<std::int32_t>(cb - ld - 1);
  bpf_func_info fi[2] = {{0, static_cast<std::uint32_t>(main_fn)},
                         {static_cast<std::uint32_t>(cb), static_cast<std::uint32_t>(cb_fn)}};
  verdict v = load_and_run(ctx, b.insns(), std::string(helper) + " with a callback", btf_fd.value().get(), fi);
  if (v.supported()) v.reason += each ? " (2 elements expected)" : " (3 iterations expected)";
  return v;
}

// An iterators-section fact and how it is verified.
struct iterator_row {
  std::string name;  // target ("task"), open-coded family ("bpf_iter_num"), or helper ("bpf_loop")
  std::string kind;  // "seq_file", "open_coded", "callback"
  doc info;
  std::function<verdict(const context&)> run;  // empty: the _new kfunc's call probe decides (prober)
};

// Open-coded families among `kfunc_names`: bpf_iter_<x> with _new, _next and _destroy.
inline std::vector<std::string> open_coded_families(const std::vector<std::string>& kfunc_names) {
  std::vector<std::string> out;
  auto has = [&](const std::string& n) {
    return std::find(kfunc_names.begin(), kfunc_names.end(), n) != kfunc_names.end();
  };
  for (const auto& n : kfunc_names) {
    if (!n.starts_with("bpf_iter_") || !n.ends_with("_new")) continue;
    std::string family = n.substr(0, n.size() - 4);
    if (has(family + "_next") && has(family + "_destroy")) out.push_back(family);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<iterator_row> iterator_rows(const context& ctx, const std::vector<std::string>& kfunc_names) {
  std::vector<iterator_row> rows;
  auto doc_of = [](const std::string& key, std::string_view name) {
    const doc* d = find_doc(dynptr_iter_docs, key);
    return d ? doc{name, d->first_kernel, d->commit} : doc{name, "", ""};
  };
  if (ctx.kernel_btf())
    for (auto t : iterator_targets(*ctx.kernel_btf()))
      rows.push_back({t.name, "seq_file", doc_of("iter_target:" + t.name, {}),
                      [t](const context& c) { return read_iterator_once(c, t).v; }});
  for (const auto& family : open_coded_families(kfunc_names)) {
    iterator_row row{family, "open_coded", doc_of("open_iter:" + family, {}), {}};
    if (family == "bpf_iter_num" || family == "bpf_iter_bits")
      row.run = [family](const context& c) { return probe_open_iterator_loop(c, family); };
    rows.push_back(std::move(row));
  }
  for (const char* h : {"bpf_loop", "bpf_for_each_map_elem"}) {
    const doc* d = find_doc(helper_docs, h);
    rows.push_back(
        {h, "callback", d ? *d : doc{h, "", ""}, [h](const context& c) { return probe_callback_iteration(c, h); }});
  }
  return rows;
}

}  // namespace bpfprobe::probe

namespace bpfprobe::probe {

// The verdict of one iterators row; open-coded families without a loop program are decided by the
// call probe of their _new kfunc.
inline verdict run_iterator_row(const context& ctx, const iterator_row& row,
                                const std::function<verdict(std::string_view)>& kfunc) {
  if (row.run) return row.run(ctx);
  verdict v = kfunc(row.name + "_new");
  v.reason = row.name + "_new (with _next and _destroy in BTF): " + (v.reason.empty() ? "callable" : v.reason);
  return v;
}

inline fact iterator_fact(const iterator_row& row, verdict v) {
  fact f{row.name, std::move(v), std::string(row.info.first_kernel), std::string(row.info.commit)};
  f.attrs.emplace_back("kind", row.kind);
  if (row.kind == "open_coded")
    f.attrs.emplace_back("verified_by", row.run ? "loop program (load and test run)" : "call probe of _new");
  return f;
}

inline section iterator_section(const context& ctx, const std::vector<std::string>& kfunc_names,
                                const std::function<verdict(std::string_view)>& kfunc, unsigned threads) {
  auto rows = iterator_rows(ctx, kfunc_names);
  return parallel_map(rows, threads,
                      [&](const auto& row) { return iterator_fact(row, run_iterator_row(ctx, row, kfunc)); });
}

}  // namespace bpfprobe::probe
