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

// Sorts libbpf programs into the flavours of each hook. Programs whose autoload was turned off
// (flavours the kernel lacks) are left out; programs that fit no flavour are an error.
inline sys::result<kprobe_programs> kprobe_flavours(std::initializer_list<const bpf_program*> progs) {
  kprobe_programs out;
  for (const auto* prog : progs) {
    if (prog && !bpf_program__autoload(prog)) continue;
    auto fd = fd_of(prog);
    if (!fd) return fd.error();
    auto type = bpf_program__type(prog);
    auto eat = bpf_program__expected_attach_type(prog);
    if (type == BPF_PROG_TYPE_TRACING && (eat == BPF_TRACE_FENTRY || eat == BPF_TRACE_FEXIT))
      out.fentry = fd.value();
    else if (type == BPF_PROG_TYPE_KPROBE && eat == BPF_TRACE_KPROBE_MULTI)
      out.kprobe_multi = fd.value();
    else if (type == BPF_PROG_TYPE_KPROBE)
      out.kprobe = fd.value();
    else
      return sys::failure_msg("kprobe programs", std::string(bpf_program__name(prog)) + " is no kprobe flavour",
                              EINVAL);
  }
  return out;
}

inline sys::result<uprobe_programs> uprobe_flavours(std::initializer_list<const bpf_program*> progs) {
  uprobe_programs out;
  for (const auto* prog : progs) {
    if (prog && !bpf_program__autoload(prog)) continue;
    auto fd = fd_of(prog);
    if (!fd) return fd.error();
    if (bpf_program__type(prog) != BPF_PROG_TYPE_KPROBE)
      return sys::failure_msg("uprobe programs", std::string(bpf_program__name(prog)) + " is no uprobe flavour",
                              EINVAL);
    (bpf_program__expected_attach_type(prog) == BPF_TRACE_UPROBE_MULTI ? out.uprobe_multi : out.uprobe) = fd.value();
  }
  return out;
}

inline sys::result<tracepoint_programs> tracepoint_flavours(std::initializer_list<const bpf_program*> progs) {
  tracepoint_programs out;
  for (const auto* prog : progs) {
    if (prog && !bpf_program__autoload(prog)) continue;
    auto fd = fd_of(prog);
    if (!fd) return fd.error();
    switch (bpf_program__type(prog)) {
      case BPF_PROG_TYPE_TRACING: out.tp_btf = fd.value(); break;
      case BPF_PROG_TYPE_RAW_TRACEPOINT: out.raw_tp = fd.value(); break;
      case BPF_PROG_TYPE_TRACEPOINT: out.tracepoint = fd.value(); break;
      default:
        return sys::failure_msg("tracepoint programs",
                                std::string(bpf_program__name(prog)) + " is no tracepoint flavour", EINVAL);
    }
  }
  return out;
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
