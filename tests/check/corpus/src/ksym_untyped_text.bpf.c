// An untyped ksym of a text symbol, which kallsyms always lists.
#include "corpus.h"

extern const void vfs_read __ksym;

SEC("kprobe/vfs_read")
int untyped_text(struct pt_regs* ctx) {
  long first = 0;
  bpf_probe_read_kernel(&first, sizeof(first), &vfs_read);
  return first == 0;
}
