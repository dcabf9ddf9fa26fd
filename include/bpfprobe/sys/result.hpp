// The error every kernel call returns: errno, the operation, and (for loads) the verifier log.
#pragma once

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace bpfprobe::sys {

// Kernel-internal errno values that leak to user space through bpf(2).
inline constexpr int ENOTSUPP_KERNEL = 524;

struct error {
  int code = 0;         // errno value (positive)
  std::string op;       // "BPF_PROG_LOAD", "open /sys/kernel/btf/vmlinux", ...
  std::string log;      // verifier or BTF log, when one was requested
  std::string message;  // free text for errors that are not plain errno

  [[nodiscard]] std::string describe() const;
};

template <class T>
using result = BOOST_OUTCOME_V2_NAMESPACE::result<T, error, BOOST_OUTCOME_V2_NAMESPACE::policy::terminate>;

inline auto failure(int code, std::string op, std::string log = {}) {
  return BOOST_OUTCOME_V2_NAMESPACE::failure(error{code, std::move(op), std::move(log), {}});
}

inline auto failure_msg(std::string op, std::string message, int code = EINVAL) {
  return BOOST_OUTCOME_V2_NAMESPACE::failure(error{code, std::move(op), {}, std::move(message)});
}

// Symbolic errno name ("EPERM", "ENOTSUPP"); the number only for a value no libc names.
inline std::string errno_name(int code) {
  switch (code) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "EOPNOTSUPP";
    case EPROTO: return "EPROTO";
    case EOVERFLOW: return "EOVERFLOW";
    case ENXIO: return "ENXIO";
    case ELOOP: return "ELOOP";
    case ENOTCONN: return "ENOTCONN";
    case ENOTSUPP_KERNEL: return "ENOTSUPP";
    default: {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
      if (const char* name = strerrorname_np(code)) return name;  // ENODATA, ENAMETOOLONG, EISDIR, ...
#endif
      return std::to_string(code);
    }
  }
}

inline std::string error::describe() const {
  std::string out = op;
  if (!out.empty()) out += ": ";
  if (!message.empty()) {
    out += message;
    if (code != 0) out += " (" + errno_name(code) + ")";
    return out;
  }
  out += errno_name(code);
  if (code != ENOTSUPP_KERNEL && code > 0 && code < 4096) {
    out += " (";
    out += std::strerror(code);
    out += ")";
  }
  return out;
}

}  // namespace bpfprobe::sys
