// An untyped ksym (a data symbol's address): libbpf looks it up in /proc/kallsyms, which lists no
// data symbols without CONFIG_KALLSYMS_ALL.
#include "corpus.h"

extern const void init_task __ksym;

// The address is used (a comparison with 0 would be folded away, and the extern with it).
SEC("raw_tp/sys_enter")
int untyped_addr(void* ctx) {
  long first = 0;
  bpf_probe_read_kernel(&first, sizeof(first), &init_task);
  return first == 0;
}

SEC("raw_tp/sys_enter")
int untyped_bystander(void* ctx) { return 0; }
