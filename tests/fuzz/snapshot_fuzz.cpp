// libFuzzer target: arbitrary bytes as a kernel snapshot (docs/snapshot.md), through the reader's
// parse. A rejection must be one printable line; an accepted input must answer every accessor.
#include <bpf/btf.h>

#include <bpfprobe/check/snapshot.hpp>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = bpfprobe::snapshot::kernel_snapshot::parse({reinterpret_cast<const char*>(data), size});
  if (auto* e = std::get_if<std::string>(&r)) {
    for (unsigned char c : *e)
      if (c < 0x20 || c >= 0x7f) {
        std::fprintf(stderr, "rejection message is not one printable line\n");
        std::abort();
      }
    return 0;
  }
  const auto& s = std::get<bpfprobe::snapshot::kernel_snapshot>(r);
  for (const auto& v : s.verdicts())
    if (!s.verdict_of(v.section, v.name)) {
      std::fprintf(stderr, "a row the lookup does not find\n");
      std::abort();
    }
  if (const struct btf* b = s.vmlinux_btf()) btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT);
  for (const auto& [name, b] : s.module_btfs()) btf__find_by_name_kind(b.get(), "task_struct", BTF_KIND_STRUCT);
  (void)s.kallsyms().names.contains("do_unlinkat");
  (void)s.config().values.size();
  return 0;
}
