// What link and attach probes share: tiny programs of the right type, the targets they attach to
// (tracepoints, kernel functions), and how a kernel answer to an
// attach request becomes a verdict. Every object is owned and released on every path.
#pragma once

#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/context.hpp>
#include <bpfprobe/sys/cgroup.hpp>
#include <bpfprobe/sys/link.hpp>
#include <bpfprobe/sys/perf.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace bpfprobe::probe::link_setup {

// Every program and map a link probe makes carries this name, so tests can tell ours apart.
inline constexpr const char* object_name = "bpfprobe_link";

struct prog_spec {
  std::string_view type;         // bpf_prog_type name
  std::string_view attach = {};  // bpf_attach_type name for expected_attach_type, or empty
  std::uint32_t attach_btf_id = 0;
  std::int32_t ret = 0;  // the constant the program returns
  int attach_prog_fd = 0;
};

// What a failed load or attach means for the link under test. A missing type, attach type or
// target in the kernel's own answer is `unsupported`; permission problems are `unknown`.
struct outcome {
  std::optional<sys::unique_fd> fd;
  verdict v;  // set when fd is empty
  explicit operator bool() const noexcept { return fd.has_value(); }
};

inline verdict load_failed(const context& ctx, const sys::error& e, std::string_view what) {
  std::string_view type = what.substr(0, what.find_first_of("/ "));  // "xdp/xdp", "struct_ops tcp_..."
  verdict v = classify::from_error(e, load_rules(ctx, type, {.log_proves_existence = false}));
  v.reason = "test program (" + std::string(what) + ") did not load: " + v.reason;
  return v;
}

// The verdict for a refused attach/link request. classify::cannot_carry_out: the kernel knows the
// request but cannot carry it out here - for "does it work" that is no.
inline verdict attach_failed(const context& ctx, const sys::error& e) {
  verdict v = classify::from_error(e, ctx.rules(classify::attach_request()));
  if (v.state == status::unsupported && classify::contains(classify::cannot_carry_out, e.code))
    v.reason = "kernel knows the request but cannot carry it out here (" + sys::errno_name(e.code) +
               "): a kernel option or driver is missing";
  if (v.evidence.empty()) v.evidence = e.describe();
  return v;
}

// A trampoline attach (fentry/fexit/fmod_ret/lsm/freplace) refused with ENOTSUPP: the kernel has the
// program type but cannot build or install the trampoline here. Seen on arm64, which has no BPF
// trampoline before 6.0 (efc9909fdce0) and no ftrace direct calls, needed on a kernel function, before
// 6.4 (2aa6ac03516d).
inline verdict trampoline_verdict(verdict v) {
  if (v.state == status::unsupported && v.err == sys::ENOTSUPP_KERNEL)
    v.reason =
        "the kernel cannot set up a BPF trampoline here (ENOTSUPP): no trampoline on this architecture, or, "
        "on a kernel function, no ftrace direct calls (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)";
  return v;
}

inline outcome load(const context& ctx, const prog_spec& s) {
  auto type = ctx.prog_type(s.type);
  if (!type) return {std::nullopt, verdict::no("kernel does not define program type " + std::string(s.type))};
  std::uint32_t eat = 0;
  if (!s.attach.empty()) {
    auto a = ctx.attach_type(s.attach);
    if (!a) return {std::nullopt, verdict::no("kernel does not define attach type " + std::string(s.attach))};
    eat = static_cast<std::uint32_t>(*a);
  }
  const auto prog = insn::assemble(insn::mov64_imm(insn::r0, s.ret), insn::exit());
  auto fd = sys::prog_load({.type = static_cast<std::uint32_t>(*type),
                            .insns = prog,
                            .expected_attach_type = eat,
                            .attach_btf_id = s.attach_btf_id,
                            .attach_prog_fd = s.attach_prog_fd,
                            .name = object_name});
  std::string what(s.type);
  if (!s.attach.empty()) what += "/" + std::string(s.attach);
  if (!fd) return {std::nullopt, load_failed(ctx, fd.error(), what)};
  return {std::move(fd).value(), {}};
}

inline std::optional<std::uint32_t> attach_value(const context& ctx, std::string_view name) {
  auto v = ctx.attach_type(name);
  return v ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*v)) : std::nullopt;
}

// A created link must be a link of the expected type: BPF_OBJ_GET_INFO_BY_FD says which (5.8+).
inline verdict check_link(const context& ctx, const sys::unique_fd& link, std::string_view expect_type,
                          const std::string& what) {
  auto info = sys::link_info(link.get());
  if (!info)
    return verdict::yes("attached; the fd gives no link info (" + sys::errno_name(info.error().code) + ")", what);
  std::string got = btf::kernel_enums::name_of(ctx.enums().link_types, info.value().type);
  std::string evidence = what + " -> link id " + std::to_string(info.value().id) + " type " +
                         (got.empty() ? std::to_string(info.value().type) : got);
  if (got != expect_type)
    return verdict::unknown("the kernel made a link of another type than " + std::string(expect_type), 0, evidence);
  return verdict::yes({}, evidence);
}

inline outcome link_create(const context& ctx, const sys::link_create_args& a) {
  auto fd = sys::link_create(a);
  if (!fd) return {std::nullopt, attach_failed(ctx, fd.error())};
  return {std::move(fd).value(), {}};
}

// A BTF-attached program's link: BPF_LINK_CREATE (tracing programs from 5.19), else the older
// BPF_RAW_TRACEPOINT_OPEN without a name. Before 5.19 BPF_LINK_CREATE's EINVAL says only that the
// call is too new: the older call's own answer decides and is what the verdict reports. CALL, when
// given, names the call that made the link.
inline outcome btf_link_or_raw_tp(const context& ctx, int prog_fd, std::uint32_t attach,
                                  std::string_view* call = nullptr) {
  auto link = link_create(ctx, {.prog_fd = prog_fd, .attach_type = attach});
  if (call) *call = "BPF_LINK_CREATE";
  if (link || link.v.err != EINVAL) return link;
  auto old = sys::raw_tracepoint_open(prog_fd);
  if (call) *call = "BPF_RAW_TRACEPOINT_OPEN";
  if (old) return {std::move(old).value(), {}};
  verdict v = attach_failed(ctx, old.error());
  v.evidence = "BPF_LINK_CREATE: " + sys::errno_name(link.v.err) + ", then " + v.evidence;
  return {std::nullopt, std::move(v)};
}

// A link probe's verdict: BPF_LINK_CREATE with the attach type named `attach` (the other arguments as
// given), then check_link that the kernel made a link of `link_type`.
inline verdict create_link(const context& ctx, sys::link_create_args a, std::string_view attach,
                           std::string_view link_type, const std::string& what) {
  a.attach_type = *attach_value(ctx, attach);
  auto link = link_create(ctx, a);
  if (!link) return link.v;
  return check_link(ctx, *link.fd, link_type, what);
}

// A raw tracepoint that fires rarely, present as a btf_trace_<name> typedef when there is BTF.
inline std::string quiet_raw_tracepoint(const context& ctx, std::uint32_t* btf_id = nullptr) {
  for (const char* tp : targets::quiet_raw_tracepoints) {
    if (!ctx.kernel_btf()) return tp;
    if (auto id = ctx.kernel_btf()->find(std::string("btf_trace_") + tp, BTF_KIND_TYPEDEF)) {
      if (btf_id) *btf_id = *id;
      return tp;
    }
  }
  return {};
}

// A tracepoint in tracefs for perf events (category, name).
inline std::optional<std::pair<std::string, std::uint64_t>> perf_tracepoint(const sys::tracefs& fs,
                                                                            sys::error* last = nullptr) {
  for (auto [cat, name] : targets::perf_tracepoints) {
    auto id = fs.event_id(cat, name);
    if (id) return std::make_pair(std::string(cat) + "/" + name, id.value());
    if (last) *last = id.error();
  }
  return std::nullopt;
}

// A kernel function that fentry/kprobe tests may attach to (bpf_fentry_test1 exists for that).
inline std::optional<std::pair<std::string, std::uint32_t>> kernel_function(const context& ctx) {
  return first_func(ctx, targets::kernel_functions);
}

// The name of a kernel function for a kprobe when kernel BTF cannot say which exist.
inline std::string kernel_function_name(const context& ctx) {
  auto fn = kernel_function(ctx);
  return fn ? fn->first : targets::kernel_functions.front();
}

// The verdict for "a private network namespace / cgroup / tracefs was needed and is not available".
inline verdict missing_env(const std::string& what, const sys::error& e) {
  return verdict::unknown("cannot set up " + what + ": " + classify::errno_reason(e.code), e.code, e.describe());
}

// A tracepoint program and a perf event on the first targets::perf_tracepoints event this tracefs
// has: what perf_event links and PERF_EVENT_IOC_SET_BPF attach. Without the event, `fail` says why.
struct tracepoint_event {
  sys::unique_fd prog, event;
  std::string name;  // "category/event"
  std::string note;  // " (how tracefs was reached)" when it had to be mounted for us, else empty
  verdict fail;
  explicit operator bool() const noexcept { return event.valid(); }
};

inline tracepoint_event open_tracepoint_event(const context& ctx) {
  tracepoint_event t;
  auto fs = sys::tracefs::locate();
  if (!fs) {
    t.fail = missing_env("tracefs", fs.error());
    return t;
  }
  sys::error last{ENOENT, "tracefs events", {}, {}};
  auto tp = perf_tracepoint(fs.value(), &last);
  if (!tp) {
    t.fail = missing_env("a tracepoint (no id readable in tracefs)", last);
    return t;
  }
  auto prog = load(ctx, {.type = "tracepoint"});
  if (!prog) {
    t.fail = prog.v;
    return t;
  }
  auto pfd = sys::open_tracepoint(tp->second);
  if (!pfd) {
    t.fail = missing_env("a tracepoint perf event", pfd.error());
    return t;
  }
  t.prog = std::move(*prog.fd);
  t.event = std::move(pfd).value();
  t.name = tp->first;
  if (fs.value().temporary()) t.note = " (" + fs.value().note() + ")";
  return t;
}

}  // namespace bpfprobe::probe::link_setup
