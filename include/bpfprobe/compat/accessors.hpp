// The compat accessors of bpf/bpfprobe/compat/*.bpf.h and, for each of their tiers (best first),
// what the kernel must offer a program type for the tier to work.
#pragma once

#include <bpfprobe/compat/tiers.h>

#include <algorithm>
#include <bpfprobe/compat/checks.hpp>
#include <cstddef>
#include <span>
#include <string_view>

namespace bpfprobe::compat {

struct tier {
  std::uint32_t id;  // value of bpfprobe_tier_<accessor>
  std::string_view name;
  std::string_view how;
  verdict (*check)(kernel_checks&, std::string_view prog_type);
};

struct accessor {
  std::string_view name;  // the .rodata flag is bpfprobe_tier_<name>
  std::span<const tier> tiers;
};

inline constexpr std::string_view tier_name_auto = "auto";
inline constexpr std::string_view tier_name_unavailable = "unavailable";

namespace detail {

inline verdict always(kernel_checks&, std::string_view) { return verdict::yes("needs nothing from the kernel"); }

// A string literal as a template argument: the helper or kfunc a tier's check asks for.
template <std::size_t N>
struct name_literal {
  char text[N];
  constexpr name_literal(const char (&s)[N]) { std::copy_n(s, N, text); }  // NOLINT: implicit on purpose
  [[nodiscard]] constexpr std::string_view view() const { return {text, N - 1}; }
};
template <name_literal Helper>
verdict helper_in(kernel_checks& k, std::string_view prog_type) {
  return k.helper(prog_type, Helper.view());
}
template <name_literal Kfunc>
verdict kfunc_in(kernel_checks& k, std::string_view prog_type) {
  return k.kfunc(prog_type, Kfunc.view());
}

// struct bpf_dynptr_kern as the BPF side reads it: data, a 32-bit packed size word, offset.
inline verdict dynptr_layout(kernel_checks& k) {
  return all_of({k.member("bpf_dynptr_kern", "data"), k.member("bpf_dynptr_kern", "size", 4),
                 k.member("bpf_dynptr_kern", "offset", 4)});
}
inline verdict dynptr_cast(kernel_checks& k, std::string_view pt) {
  return all_of({dynptr_layout(k), k.kfunc(pt, "bpf_rdonly_cast")});
}
inline verdict dynptr_read(kernel_checks& k, std::string_view pt) {
  return all_of({dynptr_layout(k), k.helper(pt, "bpf_probe_read_kernel")});
}

inline constexpr std::string_view cast_how = "bpf_rdonly_cast() to struct bpf_dynptr_kern, CO-RE field loads";
inline constexpr std::string_view read_how = "bpf_probe_read_kernel() at CO-RE offsets of struct bpf_dynptr_kern";

// The dynptr accessors a kfunc answers: the kfunc, else the fallbacks every dynptr accessor has.
template <name_literal Kfunc, name_literal How>
inline constexpr tier dynptr_by_kfunc[] = {
    {BPFPROBE_DYNPTR_KFUNC, "kfunc", How.view(), kfunc_in<Kfunc>},
    {BPFPROBE_DYNPTR_CAST, "rdonly_cast", cast_how, dynptr_cast},
    {BPFPROBE_DYNPTR_PROBE_READ, "probe_read", read_how, dynptr_read},
};
inline constexpr const auto& dynptr_size = dynptr_by_kfunc<"bpf_dynptr_size", "bpf_dynptr_size()">;
inline constexpr const auto& dynptr_is_rdonly = dynptr_by_kfunc<"bpf_dynptr_is_rdonly", "bpf_dynptr_is_rdonly()">;
inline constexpr const auto& dynptr_is_null = dynptr_by_kfunc<"bpf_dynptr_is_null", "bpf_dynptr_is_null()">;
// No kfunc returns the offset or the type: their best tier is the cast.
inline constexpr tier dynptr_no_kfunc[] = {
    {BPFPROBE_DYNPTR_CAST, "rdonly_cast", cast_how, dynptr_cast},
    {BPFPROBE_DYNPTR_PROBE_READ, "probe_read", read_how, dynptr_read},
};

inline constexpr tier current_task[] = {
    {BPFPROBE_TASK_BTF, "btf_helper", "bpf_get_current_task_btf()", helper_in<"bpf_get_current_task_btf">},
    {BPFPROBE_TASK_CAST, "rdonly_cast", "bpf_rdonly_cast(bpf_get_current_task()) to struct task_struct",
     [](kernel_checks& k, std::string_view pt) {
       return all_of({k.type("task_struct"), k.helper(pt, "bpf_get_current_task"), k.kfunc(pt, "bpf_rdonly_cast")});
     }},
    {BPFPROBE_TASK_PROBE_READ, "probe_read", "bpf_get_current_task() + bpf_probe_read_kernel() per member",
     [](kernel_checks& k, std::string_view pt) {
       return all_of(
           {k.type("task_struct"), k.helper(pt, "bpf_get_current_task"), k.helper(pt, "bpf_probe_read_kernel")});
     }},
};

inline constexpr tier probe_read_kernel[] = {
    {BPFPROBE_READ_KERNEL, "probe_read_kernel", "bpf_probe_read_kernel()", helper_in<"bpf_probe_read_kernel">},
    {BPFPROBE_READ_LEGACY, "probe_read", "bpf_probe_read()", helper_in<"bpf_probe_read">},
};

inline constexpr tier ktime_boot[] = {
    {BPFPROBE_KTIME_BOOT, "boot_ns", "bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME", helper_in<"bpf_ktime_get_boot_ns">},
    {BPFPROBE_KTIME_MONO, "mono_ns", "bpf_ktime_get_ns(): CLOCK_MONOTONIC, without time suspended",
     helper_in<"bpf_ktime_get_ns">},
};

inline constexpr tier func_ip_kprobe[] = {
    {BPFPROBE_FUNC_IP_HELPER, "helper", "bpf_get_func_ip()", helper_in<"bpf_get_func_ip">},
    {BPFPROBE_FUNC_IP_REGS, "regs", "instruction pointer in pt_regs (minus the int3 on x86)", always},
};
// bpf_get_func_ip() answers 0 in uprobes until 6.6, which added bpf_trace_run_ctx.is_uprobe.
inline constexpr tier func_ip_uprobe[] = {
    {BPFPROBE_FUNC_IP_HELPER, "helper", "bpf_get_func_ip()",
     [](kernel_checks& k, std::string_view pt) {
       return all_of({k.helper(pt, "bpf_get_func_ip"), k.member("bpf_trace_run_ctx", "is_uprobe")});
     }},
    {BPFPROBE_FUNC_IP_REGS, "regs", "instruction pointer in pt_regs", always},
};

inline constexpr tier attach_cookie[] = {
    {BPFPROBE_COOKIE_HELPER, "helper", "bpf_get_attach_cookie()", helper_in<"bpf_get_attach_cookie">},
    {BPFPROBE_COOKIE_MAP, "map", "hash map " BPFPROBE_COOKIE_MAP_NAME " keyed by function address",
     [](kernel_checks& k, std::string_view pt) {
       return all_of({k.map_type("hash"), k.helper(pt, "bpf_map_lookup_elem")});
     }},
};

inline constexpr tier loop[] = {
    {BPFPROBE_LOOP_ITER, "iter", "open-coded bpf_for() over bpf_iter_num",
     [](kernel_checks& k, std::string_view pt) {
       return all_of(
           {k.kfunc(pt, "bpf_iter_num_new"), k.kfunc(pt, "bpf_iter_num_next"), k.kfunc(pt, "bpf_iter_num_destroy")});
     }},
    {BPFPROBE_LOOP_CALLBACK, "callback", "bpf_loop()", helper_in<"bpf_loop">},
    {BPFPROBE_LOOP_UNROLLED, "unrolled", "a loop unrolled by clang, at most BPFPROBE_LOOP_UNROLL_MAX passes", always},
};

inline constexpr tier output[] = {
    {BPFPROBE_OUTPUT_RINGBUF, "ringbuf", "BPF_MAP_TYPE_RINGBUF + bpf_ringbuf_output()",
     [](kernel_checks& k, std::string_view pt) {
       return all_of({k.map_type("ringbuf"), k.helper(pt, "bpf_ringbuf_output")});
     }},
    {BPFPROBE_OUTPUT_PERF, "perf", "BPF_MAP_TYPE_PERF_EVENT_ARRAY + bpf_perf_event_output()",
     [](kernel_checks& k, std::string_view pt) {
       return all_of({k.map_type("perf_event_array"), k.helper(pt, "bpf_perf_event_output")});
     }},
};

inline constexpr accessor table[] = {
    {"dynptr_size", dynptr_size},
    {"dynptr_offset", dynptr_no_kfunc},
    {"dynptr_is_rdonly", dynptr_is_rdonly},
    {"dynptr_is_null", dynptr_is_null},
    {"dynptr_type", dynptr_no_kfunc},
    {"current_task", current_task},
    {"probe_read_kernel", probe_read_kernel},
    {"ktime_boot", ktime_boot},
    {"func_ip_kprobe", func_ip_kprobe},
    {"func_ip_uprobe", func_ip_uprobe},
    {"attach_cookie", attach_cookie},
    {"loop", loop},
    {"output", output},
};

}  // namespace detail

[[nodiscard]] inline std::span<const accessor> accessors() noexcept { return detail::table; }

[[nodiscard]] inline const accessor* find_accessor(std::string_view name) noexcept {
  for (const auto& a : detail::table)
    if (a.name == name) return &a;
  return nullptr;
}

[[nodiscard]] inline const tier* find_tier(const accessor& a, std::string_view name) noexcept {
  for (const auto& t : a.tiers)
    if (t.name == name) return &t;
  return nullptr;
}

[[nodiscard]] inline std::string_view tier_name(const accessor& a, std::uint32_t id) noexcept {
  if (id == BPFPROBE_TIER_AUTO) return tier_name_auto;
  for (const auto& t : a.tiers)
    if (t.id == id) return t.name;
  return tier_name_unavailable;
}

}  // namespace bpfprobe::compat
