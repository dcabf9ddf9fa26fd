// libFuzzer target: arbitrary bytes as a --btf file, through the same path the CLI takes
// (btf::open_checked on a path, so the open/fstat rules run too), then the names the probes would
// use. An accepted input that yields a bad name or a wrong known value is a finding (abort).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "btf_replay.hpp"

namespace {

const bpfprobe::btf::kernel_btf* running_kernel() {
  static const std::optional<bpfprobe::btf::kernel_btf> k = [] {
    auto r = bpfprobe::btf::kernel_btf::open();
    return r ? std::optional<bpfprobe::btf::kernel_btf>(std::move(r).value()) : std::nullopt;
  }();
  return k ? &*k : nullptr;
}

}  // namespace

// libbpf explains every rejected input on stderr; the fuzzer's own output is what matters.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static int fd = memfd_create("bpfprobe-btf-fuzz", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 0) != 0) std::abort();
  for (std::size_t done = 0; done < size;) {
    ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  auto k = bpfprobe::btf::open_checked("/proc/self/fd/" + std::to_string(fd), running_kernel());
  if (!k) {
    if (!bpfprobe::testing::printable_line(k.error().describe())) {
      std::fprintf(stderr, "rejection message is not one printable line\n");
      std::abort();
    }
    return 0;
  }
  for (const auto& p : bpfprobe::testing::problems_of_accepted(k.value())) {
    std::fprintf(stderr, "accepted input: %s\n", p.c_str());
    std::abort();
  }
  return 0;
}
