// Iterators: a BPF_TRACE_ITER link (5.8) with its parameters (5.10: map; 6.1: cgroup, task), read
// through BPF_ITER_CREATE.
#pragma once

#include <bpfprobe/attach/fallback.hpp>
#include <bpfprobe/decide/facts.hpp>
#include <bpfprobe/decide/hooks.hpp>

namespace bpfprobe::attach {

// At most one group applies, depending on the target (the kernel's attr is a union).
using iter_params = sys::iter_params;

inline sys::result<attachment> iterator(const decide::choice& c, int prog_fd, const iter_params& params = {},
                                        const policy& pol = {}) {
  std::vector<step> steps;
  steps.push_back({std::string(decide::path::iter_link),
                   {},
                   true,
                   {},
                   [&](attachment&) -> sys::result<std::unique_ptr<detail::hold>> {
                     auto link = sys::iter_link_create(prog_fd, params);
                     if (!link) return link.error();
                     return std::make_unique<detail::link_hold>(std::move(link).value());
                   }});
  return carry_out(c, pol, std::move(steps));
}

// `target` is what the program was loaded for (bpf_iter_<target>): it picks the report's facts.
inline sys::result<attachment> iterator(prober& p, int prog_fd, std::string_view target, const iter_params& params = {},
                                        const policy& pol = {}) {
  return iterator(decide::iterator(decide::from(p), target), prog_fd, params, pol);
}

// Runs the iterator once (BPF_ITER_CREATE + read to the end) and returns what it wrote.
inline sys::result<std::string> read_all(const attachment& a) {
  if (a.fd() < 0) return sys::failure_msg("read iterator", "not attached", EBADF);
  auto fd = sys::iter_create(a.fd());
  if (!fd) return fd.error();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.value().get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::failure(errno, "read iterator");
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace bpfprobe::attach
