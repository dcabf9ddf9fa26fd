// Overloads for programs loaded by libbpf (bpf_object / skeletons): pass `skel->progs.name`.
// Multi-flavour hooks (kprobe, uprobe, tracepoint) take every flavour the object has; each program
// goes to the path its type and expected attach type fit.
#pragma once

#include <bpf/libbpf.h>

#include <bpfprobe/attach/cgroup.hpp>
#include <bpfprobe/attach/iter.hpp>
#include <bpfprobe/attach/kprobe.hpp>
#include <bpfprobe/attach/tc.hpp>
#include <bpfprobe/attach/tracepoint.hpp>
#include <bpfprobe/attach/uprobe.hpp>
#include <bpfprobe/attach/xdp.hpp>
#include <initializer_list>

namespace bpfprobe::attach {

// The fd of a loaded libbpf program; EINVAL when it is null or not loaded yet.
inline sys::result<int> fd_of(const bpf_program* prog) {
  if (!prog) return sys::failure_msg("bpf_program__fd", "null program", EINVAL);
  int fd = bpf_program__fd(prog);
  if (fd < 0)
    return sys::failure_msg("bpf_program__fd", std::string(bpf_program__name(prog)) + " is not loaded", EINVAL);
  return fd;
}

inline sys::result<attachment> xdp(prober& p, const bpf_program* prog, int ifindex, const policy& pol = {}) {
  auto fd = fd_of(prog);
  if (!fd) return fd.error();
  return xdp(p, fd.value(), ifindex, pol);
}

inline sys::result<attachment> tc(prober& p, const bpf_program* prog, int ifindex, tc_direction dir,
                                  const policy& pol = {}, tc_filter_options opt = {}) {
  auto fd = fd_of(prog);
  if (!fd) return fd.error();
  return tc(p, fd.value(), ifindex, dir, pol, opt);
}

// The attach type defaults to the program's expected attach type (SEC("cgroup_skb/ingress") etc.).
inline sys::result<attachment> cgroup(prober& p, const bpf_program* prog, int cgroup_fd, const policy& pol = {}) {
  auto fd = fd_of(prog);
  if (!fd) return fd.error();
  return cgroup(p, fd.value(), cgroup_fd, static_cast<std::uint32_t>(bpf_program__expected_attach_type(prog)), pol);
}

inline sys::result<attachment> iterator(prober& p, const bpf_program* prog, std::string_view target,
                                        const iter_params& params = {}, const policy& pol = {}) {
  auto fd = fd_of(prog);
  if (!fd) return fd.error();
  return iterator(p, fd.value(), target, params, pol);
}

namespace detail {

// Puts each program of PROGS whose autoload is on into the member of a hook's programs that SLOT
// names for its program type and expected attach type; a program SLOT finds no member for (nullptr)
// is an error.
template <class Programs, class Slot>
sys::result<Programs> sort_flavours(std::initializer_list<const bpf_program*> progs, const std::string& hook,
                                    Slot slot) {
  Programs out;
  for (const auto* prog : progs) {
    if (prog && !bpf_program__autoload(prog)) continue;
    auto fd = fd_of(prog);
    if (!fd) return fd.error();
    int* member = slot(out, bpf_program__type(prog), bpf_program__expected_attach_type(prog));
    if (!member)
      return sys::failure_msg(hook + " programs", std::string(bpf_program__name(prog)) + " is no " + hook + " flavour",
                              EINVAL);
    *member = fd.value();
  }
  return out;
}

}  // namespace detail

// Sorts libbpf programs into the flavours of each hook. Programs whose autoload was turned off
// (flavours the kernel lacks) are left out; programs that fit no flavour are an error.
inline sys::result<kprobe_programs> kprobe_flavours(std::initializer_list<const bpf_program*> progs) {
  return detail::sort_flavours<kprobe_programs>(
      progs, "kprobe", [](kprobe_programs& out, bpf_prog_type type, bpf_attach_type eat) -> int* {
        if (type == BPF_PROG_TYPE_TRACING && (eat == BPF_TRACE_FENTRY || eat == BPF_TRACE_FEXIT)) return &out.fentry;
        if (type == BPF_PROG_TYPE_KPROBE) return eat == BPF_TRACE_KPROBE_MULTI ? &out.kprobe_multi : &out.kprobe;
        return nullptr;
      });
}

inline sys::result<uprobe_programs> uprobe_flavours(std::initializer_list<const bpf_program*> progs) {
  return detail::sort_flavours<uprobe_programs>(
      progs, "uprobe", [](uprobe_programs& out, bpf_prog_type type, bpf_attach_type eat) -> int* {
        if (type != BPF_PROG_TYPE_KPROBE) return nullptr;
        return eat == BPF_TRACE_UPROBE_MULTI ? &out.uprobe_multi : &out.uprobe;
      });
}

inline sys::result<tracepoint_programs> tracepoint_flavours(std::initializer_list<const bpf_program*> progs) {
  return detail::sort_flavours<tracepoint_programs>(
      progs, "tracepoint", [](tracepoint_programs& out, bpf_prog_type type, bpf_attach_type) -> int* {
        switch (type) {
          case BPF_PROG_TYPE_TRACING: return &out.tp_btf;
          case BPF_PROG_TYPE_RAW_TRACEPOINT: return &out.raw_tp;
          case BPF_PROG_TYPE_TRACEPOINT: return &out.tracepoint;
          default: return nullptr;
        }
      });
}

inline sys::result<attachment> kprobe(prober& p, std::initializer_list<const bpf_program*> progs,
                                      const kprobe_target& t, const policy& pol = {}) {
  auto f = kprobe_flavours(progs);
  if (!f) return f.error();
  return kprobe(p, f.value(), t, pol);
}

inline sys::result<attachment> uprobe(prober& p, std::initializer_list<const bpf_program*> progs,
                                      const uprobe_target& t, const policy& pol = {}) {
  auto f = uprobe_flavours(progs);
  if (!f) return f.error();
  return uprobe(p, f.value(), t, pol);
}

inline sys::result<attachment> tracepoint(prober& p, std::initializer_list<const bpf_program*> progs,
                                          const tracepoint_target& t, const policy& pol = {}) {
  auto f = tracepoint_flavours(progs);
  if (!f) return f.error();
  return tracepoint(p, f.value(), t, pol);
}

}  // namespace bpfprobe::attach
