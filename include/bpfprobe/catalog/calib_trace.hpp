// Calibration probes on tracing hooks: tracepoints, raw tracepoints, tp_btf, uprobes, kprobes,
// fentry/fexit and BPF LSM. Each attaches a recorder (calib_setup.hpp) that counts only runs on
// the probing thread, fires it with the given trigger and reads the record back. The syscall-entry
// probes count only the marker syscall (getpgid), so the probe's own bpf() calls do not fire them.
#pragma once

#include <sys/mman.h>
#include <time.h>

#include <bpfprobe/catalog/attach_mechanisms.hpp>
#include <bpfprobe/catalog/calib_setup.hpp>
#include <bpfprobe/sys/callable_code.hpp>
#include <fstream>
#include <sstream>

namespace bpfprobe::probe::calib_detail {
using namespace calib_setup;

// The offset of `long id` in the raw_syscalls/sys_enter record, from its tracefs format file.
inline std::optional<std::int16_t> sys_enter_id_offset(const sys::tracefs& fs) {
  auto text = sys::read_file_text(fs.path() + "/events/raw_syscalls/sys_enter/format");
  if (!text) return std::nullopt;
  auto at = text.value().find("field:long id;");
  if (at == std::string::npos) return std::nullopt;
  auto off = text.value().find("offset:", at);
  if (off == std::string::npos) return std::nullopt;
  int v = std::atoi(text.value().c_str() + off + 7);
  return v > 0 && v < 64 ? std::optional<std::int16_t>(static_cast<std::int16_t>(v)) : std::nullopt;
}

inline verdict tracepoint_fires(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto fs = sys::tracefs::locate();
  if (!fs) return missing_env("tracefs", fs.error());
  auto id = fs.value().event_id("raw_syscalls", "sys_enter");
  if (!id)
    return verdict::unknown("no raw_syscalls/sys_enter tracepoint in tracefs to fire", id.error().code,
                            id.error().describe());
  auto off = sys_enter_id_offset(fs.value());
  if (!off) return verdict::unknown("raw_syscalls/sys_enter/format has no readable 'long id' field");
  auto rec = make_recorder(ctx, {.type = "tracepoint", .tid = tid, .syscall_nr_offset = *off});
  if (!rec) return rec.fail;
  auto ev = sys::open_tracepoint(id.value());
  if (!ev) return missing_env("a tracepoint perf event", ev.error());
  if (auto r = sys::perf_set_bpf(ev.value().get(), rec.prog.get()); !r) return attach_failed(ctx, r.error());
  std::string note = fs.value().temporary() ? " (" + fs.value().note() + ")" : "";
  return fire_and_read(rec, fire, {}, "tracepoint raw_syscalls/sys_enter" + note, "getpgid() from this thread").v;
}

// A raw tracepoint program on sys_enter counting our marker syscall (ctx[1] is the syscall number),
// attached: the vehicle of raw_tp_fires, ringbuf_delivers and ktime_offset.
struct raw_tp_attached {
  recorder rec;
  sys::unique_fd link;
  verdict fail;
};

inline raw_tp_attached raw_tp_on_sys_enter(const context& ctx, std::int32_t tid, measure what = measure::nothing,
                                           int ringbuf_fd = -1) {
  raw_tp_attached a;
  a.rec = make_recorder(
      ctx, {.type = "raw_tracepoint", .tid = tid, .syscall_nr_offset = 8, .what = what, .ringbuf_fd = ringbuf_fd});
  if (!a.rec) {
    a.fail = a.rec.fail;
    return a;
  }
  auto link = sys::raw_tracepoint_open(a.rec.prog.get(), "sys_enter");
  if (!link) {
    a.fail = link.error().code == ENOENT
                 ? verdict::unknown("no sys_enter raw tracepoint to fire", ENOENT, link.error().describe())
                 : attach_failed(ctx, link.error());
    return a;
  }
  a.link = std::move(link).value();
  return a;
}

inline verdict raw_tp_fires(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto a = raw_tp_on_sys_enter(ctx, *tid);
  if (!a.link) return a.fail;
  return fire_and_read(a.rec, fire, {}, "raw_tracepoint sys_enter", "getpgid() from this thread").v;
}

inline outcome btf_link(const context& ctx, int prog_fd, std::string_view attach) {
  return link_setup::btf_link_or_raw_tp(ctx, prog_fd, *attach_value(ctx, attach));
}

inline verdict tp_btf_fires(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  if (!ctx.kernel_btf()) return verdict::unknown("no kernel BTF for a tp_btf target: " + ctx.btf_error());
  auto id = ctx.kernel_btf()->find("btf_trace_sys_enter", BTF_KIND_TYPEDEF);
  if (!id) return verdict::unknown("no btf_trace_sys_enter typedef in kernel BTF to attach to");
  auto rec = make_recorder(
      ctx, {.type = "tracing", .attach = "trace_raw_tp", .attach_btf_id = *id, .tid = tid, .syscall_nr_offset = 8});
  if (!rec) return rec.fail;
  auto link = btf_link(ctx, rec.prog.get(), "trace_raw_tp");
  if (!link) return link.v;
  return fire_and_read(rec, fire, {}, "tp_btf sys_enter", "getpgid() from this thread").v;
}

// ktime_offset: CLOCK_REALTIME - bpf_ktime_get_ns(), the realtime clock read around the trigger.
inline verdict ktime_offset(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto a = raw_tp_on_sys_enter(ctx, *tid, measure::ktime_ns);
  if (!a.link) return through("the raw_tracepoint it is read from", a.fail);
  auto ns = [](clockid_t c) {
    timespec ts{};
    ::clock_gettime(c, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  };
  std::int64_t rt0 = ns(CLOCK_REALTIME), mono0 = ns(CLOCK_MONOTONIC);
  auto f = fire_and_read(a.rec, fire, {}, "raw_tracepoint sys_enter", "getpgid() from this thread");
  std::int64_t mono1 = ns(CLOCK_MONOTONIC), rt1 = ns(CLOCK_REALTIME);
  if (!f.v.supported()) return f.v;
  auto bpf_ns = static_cast<std::int64_t>(f.rec.value);
  f.v.value = rt0 + (rt1 - rt0) / 2 - bpf_ns;
  bool inside = bpf_ns >= mono0 && bpf_ns <= mono1;
  f.v.evidence += "; bpf_ktime_get_ns() " + std::to_string(bpf_ns) + (inside ? " inside" : " OUTSIDE") +
                  " the CLOCK_MONOTONIC bracket [" + std::to_string(mono0) + ", " + std::to_string(mono1) +
                  "]; realtime read within " + std::to_string(rt1 - rt0) + " ns";
  if (!inside) {
    f.v.state = status::unknown;
    f.v.reason = "bpf_ktime_get_ns() was not between two CLOCK_MONOTONIC reads around the trigger";
  }
  return f.v;
}

// ringbuf_delivers: the program bpf_ringbuf_output()s 8 bytes; the record is read from the ring's
// mmap()ed pages (consumer page, then producer page and data).
inline verdict ringbuf_delivers(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto type = btf::kernel_enums::value_of(ctx.enums().map_types, "ringbuf");
  if (!type) return verdict::no("kernel does not define map type ringbuf", 0, ctx.enums().source);
  long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  auto size = static_cast<std::uint32_t>(page);
  auto rb = sys::map_create({.type = static_cast<std::uint32_t>(*type),
                             .key_size = 0,
                             .value_size = 0,
                             .max_entries = size,
                             .name = object_name});
  if (!rb) {
    verdict v = classify::from_error(rb.error(), ctx.rules());
    v.reason = "ringbuf map: " + v.reason;
    return v;
  }
  auto a = raw_tp_on_sys_enter(ctx, *tid, measure::nothing, rb.value().get());
  if (!a.link) return through("the raw_tracepoint that writes to the ring", a.fail);
  auto f = fire_and_read(a.rec, fire, {}, "raw_tracepoint sys_enter", "getpgid() from this thread");
  if (!f.v.supported()) return f.v;
  struct mapping {
    void* at;
    std::size_t len;
    ~mapping() {
      if (at != MAP_FAILED) ::munmap(at, len);
    }
  };
  mapping cons{::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, rb.value().get(), 0), size};
  mapping prod{::mmap(nullptr, size + 2ull * size, PROT_READ, MAP_SHARED, rb.value().get(), page), 3ull * size};
  if (cons.at == MAP_FAILED || prod.at == MAP_FAILED)
    return verdict::unknown("the program ran, but the ring could not be mmap()ed", errno, "mmap ringbuf");
  auto consumer = __atomic_load_n(static_cast<std::uint64_t*>(cons.at), __ATOMIC_ACQUIRE);
  auto producer = __atomic_load_n(static_cast<std::uint64_t*>(prod.at), __ATOMIC_ACQUIRE);
  if (producer <= consumer)
    return verdict::no("the program ran, but nothing reached the ring", 0,
                       f.v.evidence + "; producer position " + std::to_string(producer));
  const char* data = static_cast<const char*>(prod.at) + page;
  const char* rec = data + (consumer & (size - 1));
  auto len = __atomic_load_n(reinterpret_cast<const std::uint32_t*>(rec), __ATOMIC_ACQUIRE);
  std::uint64_t got = 0;
  std::memcpy(&got, rec + 8, sizeof(got));
  if ((len & ~(3u << 30)) != 8 || (len >> 30) != 0 || got != ringbuf_magic)
    return verdict::no("the ring's first record is not what the program wrote", 0,
                       "header " + std::to_string(len) + ", first 8 bytes " + std::to_string(got));
  return verdict::yes({}, f.v.evidence + "; an 8-byte record read back from the mmap()ed ring");
}

// A perf event's BPF attach: a perf_event link (5.15) carrying `cookie`, else (no cookie wanted)
// PERF_EVENT_IOC_SET_BPF. The fd holds the link, or is empty when the ioctl attached it.
inline outcome attach_perf(const context& ctx, int prog_fd, int event_fd, std::optional<std::uint64_t> cookie) {
  auto link = link_setup::link_create(ctx, {.prog_fd = prog_fd,
                                            .target = static_cast<std::uint32_t>(event_fd),
                                            .attach_type = *attach_value(ctx, "perf_event"),
                                            .part = sys::link_parts::perf_event{.cookie = cookie.value_or(0)}});
  if (link || cookie) return link;
  if (auto r = sys::perf_set_bpf(event_fd, prog_fd); !r) return {std::nullopt, attach_failed(ctx, r.error())};
  return {sys::unique_fd(), {}};
}

inline constexpr std::uint64_t test_cookie = 0x0bf9c0de5eed1e55ull;

// The verdict of a cookie fact from what the program read: the value, and whether it is ours.
inline verdict cookie_verdict(fired f) {
  if (!f.v.supported()) return f.v;
  f.v.value = static_cast<std::int64_t>(f.rec.value);
  if (f.rec.value != test_cookie) {
    f.v.state = status::unsupported;
    f.v.reason = "fired, but bpf_get_attach_cookie() read " + std::to_string(f.rec.value) + ", not the cookie set";
  }
  return f.v;
}

// uprobe_fires / uretprobe_fires / uprobe_cookie: a uprobe PMU event (this process only) on
// sys::callable_code, which the trigger calls.
inline verdict uprobe(const context& ctx, const trigger& fire, bool ret, bool cookie) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto pmu = sys::find_pmu("uprobe");
  if (!pmu) return *mechanisms_detail::pmu_missing("uprobe", pmu.error());
  auto code = sys::callable_code::create();
  if (!code) return missing_env("code of our own to put a uprobe on", code.error());
  auto rec = make_recorder(ctx, {.type = "kprobe", .tid = tid, .what = cookie ? measure::cookie : measure::nothing});
  if (!rec) return rec.fail;
  // The uprobe goes on the file while nothing maps it, and comes off once nothing does again
  // (sys::callable_code says why).
  auto ev = sys::open_uprobe(pmu.value(), code.value().path(), code.value().offset(), ret, ::getpid());
  if (!ev) return attach_failed(ctx, ev.error());
  // Destroyed first: the code is unmapped before the event (and the link) remove the uprobe.
  struct unmap_first {
    sys::callable_code& code;
    ~unmap_first() { code.unmap(); }
  } unmap_guard{code.value()};
  if (auto m = code.value().map(); !m) return missing_env("code of our own to put a uprobe on", m.error());
  auto link = attach_perf(ctx, rec.prog.get(), ev.value().get(),
                          cookie ? std::optional<std::uint64_t>(test_cookie) : std::nullopt);
  if (!link) return link.v;
  std::string what = std::string(ret ? "uretprobe" : "uprobe") + " PMU event on a function this process maps" +
                     (cookie ? " (perf_event link with a cookie)" : "");
  auto f = fire_and_read(rec, fire, {.code = code.value().function()}, what, "a call of it from this thread");
  return cookie ? cookie_verdict(std::move(f)) : f.v;
}

// Whether the kernel has kprobes at all, from the kernel's own interfaces: the kprobe PMU in sysfs
// and kprobe_events in tracefs. nullopt when it has (or cannot be told not to have) them.
inline std::optional<verdict> no_kprobes() {
  auto pmu = sys::find_pmu("kprobe");
  if (pmu) return std::nullopt;
  if (auto v = mechanisms_detail::pmu_missing("kprobe", pmu.error()); v->state != status::unsupported) return v;
  auto fs = sys::tracefs::locate();
  if (!fs)
    return verdict::unknown("no kprobe PMU, and tracefs (to look for kprobe_events) is not reachable", fs.error().code,
                            fs.error().describe());
  std::string control = fs.value().path() + "/kprobe_events";
  if (::access(control.c_str(), F_OK) == 0)
    return verdict::unknown("no kprobe PMU but tracefs has kprobe_events; the probe uses the PMU (4.17)");
  if (errno != ENOENT) return verdict::unknown("cannot look into tracefs", errno, control);
  return verdict::no(
      "kernel has no kprobes: no kprobe PMU in /sys/bus/event_source/devices and no kprobe_events in tracefs "
      "(built without CONFIG_KPROBE_EVENTS)",
      ENOENT, "/sys/bus/event_source/devices/kprobe, tracefs kprobe_events");
}

// The kernel address of a symbol from /proc/kallsyms (0 when hidden or absent).
inline std::uint64_t kallsyms_address(const std::string& name) {
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string addr, type, sym;
    if (!(s >> addr >> type >> sym) || sym != name) continue;
    return std::strtoull(addr.c_str(), nullptr, 16);
  }
  return 0;
}

enum class kprobe_kind { entry, ret, cookie, ip };

// kprobe_fires / kretprobe_fires / kprobe_cookie / kprobe_ip_offset: a kprobe PMU event on the
// getpgid syscall function, fired by getpgid() from this thread.
inline verdict kprobe(const context& ctx, const trigger& fire, kprobe_kind kind) {
  if (auto none = no_kprobes()) return *none;
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto fn = first_func(ctx, targets::sleepable_functions);
  if (!fn) return verdict::unknown("no getpgid syscall function in kernel BTF to put a kprobe on");
  if (kind == kprobe_kind::ip && pt_regs_ip < 0)
    return verdict::unknown("where pt_regs keeps the instruction pointer is not known for this architecture");
  std::uint64_t addr = kind == kprobe_kind::ip ? kallsyms_address(fn->first) : 0;
  if (kind == kprobe_kind::ip && !addr)
    return verdict::unknown("/proc/kallsyms gives no address for " + fn->first + " (kptr_restrict?)");
  auto pmu = sys::find_pmu("kprobe");
  if (!pmu) return *mechanisms_detail::pmu_missing("kprobe", pmu.error());
  measure what = kind == kprobe_kind::cookie ? measure::cookie
                 : kind == kprobe_kind::ip   ? measure::ip
                                             : measure::nothing;
  auto rec = make_recorder(ctx, {.type = "kprobe", .tid = tid, .what = what});
  if (!rec) return rec.fail;
  auto ev = sys::open_kprobe(pmu.value(), fn->first, 0, kind == kprobe_kind::ret);
  if (!ev) return attach_failed(ctx, ev.error());
  bool cookie = kind == kprobe_kind::cookie;
  auto link = attach_perf(ctx, rec.prog.get(), ev.value().get(),
                          cookie ? std::optional<std::uint64_t>(test_cookie) : std::nullopt);
  if (!link) return link.v;
  std::string what_s = std::string(kind == kprobe_kind::ret ? "kretprobe" : "kprobe") + " PMU event on " + fn->first;
  auto f = fire_and_read(rec, fire, {}, what_s, "getpgid() from this thread");
  if (cookie) return cookie_verdict(std::move(f));
  if (kind == kprobe_kind::ip && f.v.supported()) {
    f.v.value = static_cast<std::int64_t>(f.rec.value - addr);
    f.v.evidence += "; ip " + std::to_string(f.rec.value) + " - kallsyms " + std::to_string(addr);
  }
  return f.v;
}

// kprobe_multi_fires: a kprobe_multi link (fprobe, not kprobes) on the getpgid syscall function.
inline verdict kprobe_multi_fires(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto fn = first_func(ctx, targets::sleepable_functions);
  if (!fn) return verdict::unknown("no getpgid syscall function in kernel BTF to attach to");
  auto rec = make_recorder(ctx, {.type = "kprobe", .attach = "trace_kprobe_multi", .tid = tid});
  if (!rec) return rec.fail;
  const char* syms[] = {fn->first.c_str()};
  auto link = link_setup::link_create(ctx, {.prog_fd = rec.prog.get(),
                                            .attach_type = *attach_value(ctx, "trace_kprobe_multi"),
                                            .part = sys::link_parts::kprobe_multi{.syms = syms}});
  if (!link) return link.v;
  return fire_and_read(rec, fire, {}, "kprobe_multi link on " + fn->first, "getpgid() from this thread").v;
}

// fentry_fires / fexit_fires on bpf_fentry_test1, which a test run of the program itself calls.
inline verdict fentry(const context& ctx, const trigger& fire, bool fexit) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto fn = first_func(ctx, {"bpf_fentry_test1"});
  if (!fn) return verdict::unknown("no bpf_fentry_test1 in kernel BTF (what a test run calls) to attach to");
  std::string_view attach = fexit ? "trace_fexit" : "trace_fentry";
  auto rec = make_recorder(ctx, {.type = "tracing", .attach = attach, .attach_btf_id = fn->second, .tid = tid});
  if (!rec) return rec.fail;
  auto link = btf_link(ctx, rec.prog.get(), attach);
  if (!link) return link_setup::trampoline_verdict(link.v);
  return fire_and_read(rec, fire, {.prog_fd = rec.prog.get()},
                       std::string(fexit ? "fexit" : "fentry") + " on bpf_fentry_test1",
                       "BPF_PROG_TEST_RUN of the program from this thread")
      .v;
}

// lsm_active: a BPF LSM program on file_open runs only when "bpf" is in the active LSM list.
inline verdict lsm_active(const context& ctx, const trigger& fire) {
  auto tid = host_tid();
  if (!tid) return nested_pid_ns();
  auto fn = first_func(ctx, {"bpf_lsm_file_open"});
  if (!fn) return verdict::unknown("no bpf_lsm_file_open in kernel BTF to attach to");
  auto rec = make_recorder(ctx, {.type = "lsm", .attach = "lsm_mac", .attach_btf_id = fn->second, .tid = tid});
  if (!rec) return rec.fail;
  auto link = btf_link(ctx, rec.prog.get(), "lsm_mac");
  if (!link) return link_setup::trampoline_verdict(link.v);
  auto f = fire_and_read(rec, fire, {}, "lsm/file_open", "open() from this thread");
  if (f.v.state == status::unsupported) {
    auto list = sys::read_file_text("/sys/kernel/security/lsm");
    f.v.reason += list ? "; active LSMs: " + list.value() + " (bpf must be listed: lsm= boot parameter)"
                       : "; bpf is likely not in the active LSM list (lsm= boot parameter)";
  }
  return f.v;
}

}  // namespace bpfprobe::probe::calib_detail
