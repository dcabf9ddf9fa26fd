// An untyped ksym of a text symbol, which kallsyms always lists.
#include "corpus.h"

extern const void vfs_read __ksym;

SEC("kprobe/vfs_read")
int untyped_text(struct pt_regs* ctx) { return PT_REGS_IP(ctx) - 1 == (long)&vfs_read; }
