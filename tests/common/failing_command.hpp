// Fault injection for tests at the syscall seam (include/bpfprobe/sys/syscalls.hpp): one bpf()
// command fails with a chosen errno and no log; every other call reaches the kernel.
#pragma once

#include <bpfprobe/sys/syscalls.hpp>
#include <cerrno>

namespace bpfprobe::testing {

class failing_command : public sys::syscalls {
 public:
  failing_command(int cmd, int err) : cmd_(cmd), err_(err) {}
  long bpf(int cmd, union bpf_attr* attr, unsigned int size) noexcept override {
    if (cmd == cmd_) {
      errno = err_;
      return -1;
    }
    return syscalls::real().bpf(cmd, attr, size);
  }

 private:
  int cmd_;
  int err_;
};

}  // namespace bpfprobe::testing
