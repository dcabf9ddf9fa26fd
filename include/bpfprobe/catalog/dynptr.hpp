// Dynptr probes. Every fact is a hand-assembled program that builds a dynptr of one kind, uses it,
// releases it, stores the last call's result in a map and loads; where the program type can be test
// run it is, and the result is the evidence. Kinds come from the kernel's `enum bpf_dynptr_type`.
// Dynptrs: 5.19 (263ae152e962 local, bc34dee65a65 ringbuf); skb/xdp kfuncs 6.4 (b5964b968ac6,
// 05421aecd4ed); the generic kfuncs 6.5 (26662d7347a0 and others); skb_meta 6.18 (89d912e494f7).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <bpfprobe/catalog/facts.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/insn/builder.hpp>
#include <bpfprobe/probe/fact.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/usage.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bpfprobe::probe {

namespace dynptr_detail {

using namespace insn;

inline constexpr std::int16_t ptr = -16;      // struct bpf_dynptr (16 bytes, uapi)
inline constexpr std::int16_t ptr2 = -32;     // a second one (clone)
inline constexpr std::int16_t buf = -48;      // 8-byte scratch buffer
inline constexpr std::int32_t data_off = 16;  // local dynptrs cover bytes [16, 32) of the result map value
inline constexpr std::uint32_t packet_len = 64;

// How a program of one kind makes (and, for ringbuf, gives back) its dynptr.
struct kind_recipe {
  std::string_view kind;
  std::string_view prog_types[2];  // the first the kernel has is used
  std::string_view ctor;           // helper or kfunc
  std::string_view check_op;       // the op the kind fact runs with it, if any
};

inline constexpr kind_recipe kinds[] = {
    {"local", {"syscall", "socket_filter"}, "bpf_dynptr_from_mem", "bpf_dynptr_read"},
    {"ringbuf", {"syscall", "socket_filter"}, "bpf_ringbuf_reserve_dynptr", ""},
    {"skb", {"sched_cls"}, "bpf_dynptr_from_skb", "bpf_dynptr_size"},
    {"xdp", {"xdp"}, "bpf_dynptr_from_xdp", "bpf_dynptr_size"},
    {"skb_meta", {"sched_cls"}, "bpf_dynptr_from_skb_meta", "bpf_dynptr_size"},
};

inline const kind_recipe* find_kind(std::string_view k) {
  for (const auto& r : kinds)
    if (r.kind == k) return &r;
  return nullptr;
}

// One operation on the dynptr at fp-16: sets r1..r5 before the call.
struct op_recipe {
  std::string_view name;
  bool returns_pointer;
  void (*args)(builder&);
  std::string_view kind = "local";  // the dynptr its fact is verified on
};

inline void args_ptr(builder& b) { b.stack_addr(r1, ptr); }
inline void args_ptr_0_8(builder& b) { b.stack_addr(r1, ptr)(mov64_imm(r2, 0))(mov64_imm(r3, 8)); }
inline void args_probe_read(builder& b) {  // (dynptr, off, size, unsafe_ptr)
  args_ptr_0_8(b);
  b(mov64_imm(r4, 0));
}

inline constexpr op_recipe ops[] = {
    {"bpf_dynptr_read", false,
     [](builder& b) {
       b.stack_addr(r1, buf)(mov64_imm(r2, 8)).stack_addr(r3, ptr)(mov64_imm(r4, 0))(mov64_imm(r5, 0));
     }},
    {"bpf_dynptr_write", false,
     [](builder& b) {
       b(st_mem(BPF_DW, r10, buf, 0))
           .stack_addr(r1, ptr)(mov64_imm(r2, 0))
           .stack_addr(r3, buf)(mov64_imm(r4, 8))(mov64_imm(r5, 0));
     }},
    {"bpf_dynptr_data", true, args_ptr_0_8},
    {"bpf_dynptr_size", false, args_ptr},
    {"bpf_dynptr_is_null", false, args_ptr},
    {"bpf_dynptr_is_rdonly", false, args_ptr},
    {"bpf_dynptr_adjust", false, args_ptr_0_8},
    {"bpf_dynptr_clone", false, [](builder& b) { b.stack_addr(r1, ptr).stack_addr(r2, ptr2); }},
    {"bpf_dynptr_copy", false,
     [](builder& b) {
       b.stack_addr(r1, ptr)(mov64_imm(r2, 0)).stack_addr(r3, ptr)(mov64_imm(r4, 8))(mov64_imm(r5, 8));
     }},
    {"bpf_dynptr_memset", false, [](builder& b) { args_ptr_0_8(b), b(mov64_imm(r4, 0)); }},
    {"bpf_dynptr_slice", true, [](builder& b) { args_ptr_0_8(b), b(mov64_imm(r3, 0))(mov64_imm(r4, 8)); }},
    // Writable slices need a program type that may write packet data, even for other kinds.
    {"bpf_dynptr_slice_rdwr", true, [](builder& b) { args_ptr_0_8(b), b(mov64_imm(r3, 0))(mov64_imm(r4, 8)); }, "skb"},
    {"bpf_probe_read_user_dynptr", false, args_probe_read},
    {"bpf_probe_read_kernel_dynptr", false, args_probe_read},
    {"bpf_probe_read_user_str_dynptr", false, args_probe_read},
    {"bpf_probe_read_kernel_str_dynptr", false, args_probe_read},
    {"bpf_copy_from_user_dynptr", false, args_probe_read},
    {"bpf_copy_from_user_str_dynptr", false, args_probe_read},
};

inline const op_recipe* find_op(std::string_view name) {
  for (const auto& o : ops)
    if (o.name == name) return &o;
  return nullptr;
}

// A call by name: a helper id from the kernel's enum, else a kfunc's BTF id.
struct callee {
  bpf_insn call;
  std::string what;  // "helper" / "kfunc"
};

inline std::optional<callee> resolve(const context& ctx, std::string_view name) {
  if (auto id = btf::kernel_enums::value_of(ctx.enums().helpers, name))
    return callee{call_helper(static_cast<std::int32_t>(*id)), "helper"};
  if (ctx.kernel_btf())
    if (auto id = ctx.kernel_btf()->find_func(name)) return callee{call_kfunc(static_cast<std::int32_t>(*id)), "kfunc"};
  return std::nullopt;
}

inline verdict missing(const context& ctx, std::string_view name) {
  if (!ctx.kernel_btf())
    return verdict::unknown(std::string(name) + ": not a helper, and no kernel BTF to look kfuncs up in");
  return verdict::no(std::string(name) + ": neither a helper in enum bpf_func_id nor a FUNC in kernel BTF", 0,
                     ctx.enums().source);
}

}  // namespace dynptr_detail

// One dynptr program: `kind`'s constructor, then `op` (optional), then the release the kind needs
// (`release` overrides it: bpf_ringbuf_submit_dynptr). Loads; test runs where the type allows.
inline verdict probe_dynptr_use(const context& ctx, std::string_view kind, std::string_view op = {},
                                std::string_view release = {}) {
  using namespace dynptr_detail;
  const kind_recipe* k = find_kind(kind);
  if (!k) return verdict::unknown("no program recipe for dynptr kind " + std::string(kind));
  std::string prog_type;
  std::uint32_t type_value = 0;
  for (auto t : k->prog_types)
    if (auto v = t.empty() ? std::nullopt : ctx.prog_type(t)) {
      prog_type = t;
      type_value = static_cast<std::uint32_t>(*v);
      break;
    }
  if (prog_type.empty()) return verdict::no("kernel has no program type for a " + std::string(kind) + " dynptr");
  auto ctor = resolve(ctx, k->ctor);
  if (!ctor) return missing(ctx, k->ctor);
  const op_recipe* o = op.empty() ? nullptr : find_op(op);
  if (!op.empty() && !o) return verdict::unknown("no program recipe for " + std::string(op));
  std::optional<callee> op_call;
  if (o && !(op_call = resolve(ctx, o->name))) return missing(ctx, o->name);
  bool ringbuf = kind == "ringbuf";
  if (ringbuf && release.empty()) release = "bpf_ringbuf_discard_dynptr";
  std::optional<callee> rel;
  if (!release.empty() && !(rel = resolve(ctx, release))) return missing(ctx, release);

  auto result_map = sys::map_create({.type = BPF_MAP_TYPE_ARRAY, .value_size = 32, .name = "bpfpx_dynptr"});
  if (!result_map) return classify::from_error(result_map.error(), ctx.rules());
  sys::unique_fd rb;
  if (ringbuf) {
    auto m = sys::map_create({.type = BPF_MAP_TYPE_RINGBUF,
                              .key_size = 0,
                              .value_size = 0,
                              .max_entries = static_cast<std::uint32_t>(sysconf(_SC_PAGESIZE)),
                              .name = "bpfpx_ringbuf"});
    if (!m) return classify::from_error(m.error(), ctx.rules());
    rb = std::move(m).value();
  }
  int res_fd = result_map.value().get();

  builder b;
  b(mov64_reg(r6, r1))(mov64_imm(r7, 0));
  if (kind == "local") {
    b(ld_map_value(r1, res_fd, data_off))(mov64_imm(r2, 16))(mov64_imm(r3, 0)).stack_addr(r4, ptr);
  } else if (ringbuf) {
    b(ld_map_fd(r1, rb.get()))(mov64_imm(r2, 8))(mov64_imm(r3, 0)).stack_addr(r4, ptr);
  } else {  // from_skb / from_xdp / from_skb_meta (ctx, flags, ptr)
    b(mov64_reg(r1, r6))(mov64_imm(r2, 0)).stack_addr(r3, ptr);
  }
  b(ctor->call)(mov64_reg(r7, r0));
  if (o) {
    o->args(b);
    b(op_call->call);
    if (o->returns_pointer)
      b(mov64_imm(r7, 0))(jmp_imm(BPF_JEQ, r0, 0, 1))(mov64_imm(r7, 1));
    else
      b(mov64_reg(r7, r0));
  }
  if (rel) b.stack_addr(r1, ptr)(mov64_imm(r2, 0))(rel->call);
  b(ld_map_value(r1, res_fd, 0))(stx_mem(BPF_DW, r1, r7, 0))(mov64_imm(r0, prog_type == "xdp" ? XDP_PASS : 0))(exit());

  load_setup s = setup_for(ctx, prog_type, type_value);
  s.args.insns = b.insns();
  s.args.name = "bpfpx_dynptr";
  auto fd = sys::prog_load(s.args);
  std::string what =
      std::string(k->ctor) + (o ? " + " + std::string(o->name) : "") + (rel ? " + " + std::string(release) : "");
  verdict v = must_load_verdict(ctx, fd, "a " + prog_type + " program using " + what + " loaded");
  if (!v.supported()) {
    add_evidence(v, prog_type + " program: " + what);
    return v;
  }
  // Test run: the packet types get a zeroed 64-byte frame; syscall programs run without context.
  std::vector<std::byte> packet(prog_type == "sched_cls" || prog_type == "xdp" ? packet_len : 0);
  if (prog_type == "socket_filter") packet.resize(packet_len);
  // Syscall programs take no data and no repeat count.
  auto run = sys::prog_test_run(fd.value().get(), {.data_in = packet, .repeat = prog_type == "syscall" ? 0u : 1u});
  std::uint64_t value[4] = {};
  int key = 0;
  if (!run) {
    add_evidence(v, "test run: " + run.error().describe());
  } else if (auto got = sys::map_lookup(res_fd, &key, value); got) {
    std::string last = o ? std::string(o->name) : std::string(k->ctor);
    // Calls returning int leave the upper half zero: show -14, not 4294967282.
    std::int64_t ret = value[0] >> 32 ? static_cast<std::int64_t>(value[0])
                                      : static_cast<std::int64_t>(static_cast<std::int32_t>(value[0]));
    add_evidence(v, "test run: " + last + " returned " + std::to_string(ret) +
                        (packet.empty() ? "" : " on a " + std::to_string(packet_len) + "-byte packet"));
  }
  return v;
}

// A dynptr fact: a kind ("local") or a helper/kfunc ("bpf_dynptr_slice"), and how it is verified.
struct dynptr_row {
  std::string name;
  std::string kind;  // "dynptr_kind", "helper", "kfunc"
  doc info;
  // Empty: verified by the kfunc call probe only (the prober fills the verdict).
  std::function<verdict(const context&)> run;
};

// Kinds the kernel defines (enum bpf_dynptr_type), else the four of 5.19-6.17.
// The kinds of the kernel's enum bpf_dynptr_type, then every kind the catalog has a recipe for: a
// kind this kernel lacks is a fact (unsupported here), not an unknown name.
inline std::vector<std::string> dynptr_kinds(const context& ctx) {
  std::vector<std::string> out;
  if (ctx.kernel_btf())
    for (const auto& e : ctx.kernel_btf()->enumerators("bpf_dynptr_type", "BPF_DYNPTR_TYPE_"))
      if (e.name != "invalid") out.push_back(e.name);
  for (const auto& k : dynptr_detail::kinds)
    if (std::find(out.begin(), out.end(), k.kind) == out.end()) out.emplace_back(k.kind);
  return out;
}

// Every dynptr fact. `kfunc_names`: kfuncs of the kernel; those named *dynptr* without a recipe
// here become call-probe rows.
inline std::vector<dynptr_row> dynptr_rows(const context& ctx, const std::vector<std::string>& kfunc_names) {
  using namespace dynptr_detail;
  std::vector<dynptr_row> rows;
  auto doc_of = [](std::string_view name, std::string_view kind) -> doc {
    const doc* d = find_doc(dynptr_iter_docs, std::string(kind) + ":" + std::string(name));
    return d ? doc{name, d->first_kernel, d->commit} : doc{name, "", ""};
  };
  for (const auto& kind : dynptr_kinds(ctx)) {
    const kind_recipe* k = find_kind(kind);
    dynptr_row row{kind, "dynptr_kind", {}, {}};
    if (k) {
      bool kf = !btf::kernel_enums::value_of(ctx.enums().helpers, k->ctor);
      row.info = doc_of(k->ctor, kf ? "kfunc" : "helper");
      row.info.name = {};
      std::string ctor(k->ctor), check(k->check_op);
      row.run = [kind, check](const context& c) {
        verdict v = probe_dynptr_use(c, kind, check);
        // The check op is newer than some constructors (bpf_dynptr_size is 6.5, from_skb 6.4).
        if (!check.empty() && v.state == status::unsupported && v.reason.starts_with(check + ":"))
          v = probe_dynptr_use(c, kind);
        return v;
      };
    } else {
      // A kind without a recipe: its constructor kfunc bpf_dynptr_from_<kind>, by call probe.
      row.info = doc_of("bpf_dynptr_from_" + kind, "kfunc");
      row.info.name = {};
    }
    rows.push_back(std::move(row));
  }
  auto helper_row = [&](std::string name, std::function<verdict(const context&)> run) {
    rows.push_back({name, "helper", doc_of(name, "helper"), std::move(run)});
  };
  helper_row("bpf_dynptr_from_mem", [](const context& c) { return probe_dynptr_use(c, "local"); });
  for (const char* op : {"bpf_dynptr_read", "bpf_dynptr_write", "bpf_dynptr_data"})
    helper_row(op, [op](const context& c) { return probe_dynptr_use(c, "local", op); });
  helper_row("bpf_ringbuf_reserve_dynptr", [](const context& c) { return probe_dynptr_use(c, "ringbuf"); });
  helper_row("bpf_ringbuf_submit_dynptr",
             [](const context& c) { return probe_dynptr_use(c, "ringbuf", {}, "bpf_ringbuf_submit_dynptr"); });
  helper_row("bpf_ringbuf_discard_dynptr", [](const context& c) { return probe_dynptr_use(c, "ringbuf"); });

  auto kfunc_row = [&](std::string name, std::function<verdict(const context&)> run) {
    for (const auto& r : rows)
      if (r.name == name) return;
    rows.push_back({name, "kfunc", doc_of(name, "kfunc"), std::move(run)});
  };
  kfunc_row("bpf_dynptr_from_skb", [](const context& c) { return probe_dynptr_use(c, "skb"); });
  kfunc_row("bpf_dynptr_from_xdp", [](const context& c) { return probe_dynptr_use(c, "xdp"); });
  kfunc_row("bpf_dynptr_from_skb_meta", [](const context& c) { return probe_dynptr_use(c, "skb_meta"); });
  for (const auto& o : ops) {
    if (btf::kernel_enums::value_of(ctx.enums().helpers, o.name)) continue;  // helpers above
    std::string name(o.name);
    std::string kind(o.kind);
    kfunc_row(name, [name, kind](const context& c) { return probe_dynptr_use(c, kind, name); });
  }
  for (const auto& n : kfunc_names)
    if (n.find("dynptr") != std::string::npos) kfunc_row(n, {});
  return rows;
}

}  // namespace bpfprobe::probe

namespace bpfprobe::probe {

using kfunc_query = std::function<verdict(std::string_view)>;

// The verdict of one dynptr row; rows without a program come from the kfunc call probe.
inline verdict run_dynptr_row(const context& ctx, const dynptr_row& row, const kfunc_query& kfunc) {
  if (row.run) return row.run(ctx);
  std::string fn = row.kind == "dynptr_kind" ? "bpf_dynptr_from_" + row.name : row.name;
  verdict v = kfunc(fn);
  if (row.kind == "dynptr_kind") v.reason = "constructor " + fn + (v.reason.empty() ? "" : ": " + v.reason);
  return v;
}

inline fact dynptr_fact(const dynptr_row& row, verdict v) {
  fact f{row.name, std::move(v), std::string(row.info.first_kernel), std::string(row.info.commit)};
  f.attrs.emplace_back("kind", row.kind);
  f.attrs.emplace_back("verified_by", row.run ? "program that uses it" : "kfunc call probe only");
  return f;
}

// The dynptr section; `kfunc_names` are the kernel's kfuncs, `kfunc` answers call-probe rows.
inline section dynptr_section(const context& ctx, const std::vector<std::string>& kfunc_names, const kfunc_query& kfunc,
                              unsigned threads) {
  auto rows = dynptr_rows(ctx, kfunc_names);
  return parallel_map(rows, threads,
                      [&](const auto& row) { return dynptr_fact(row, run_dynptr_row(ctx, row, kfunc)); });
}

}  // namespace bpfprobe::probe
