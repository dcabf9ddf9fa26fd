// An untyped ksym (a data symbol's address): libbpf looks it up in /proc/kallsyms, which lists no
// data symbols without CONFIG_KALLSYMS_ALL.
#include "corpus.h"

extern const void init_task __ksym;

SEC("raw_tp/sys_enter")
int untyped_addr(void* ctx) { return (long)&init_task == 0; }

SEC("raw_tp/sys_enter")
int untyped_bystander(void* ctx) { return 0; }
