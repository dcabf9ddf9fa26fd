// A typed ksym: a per-CPU variable found through its BTF VAR; the verifier still needs its address.
#include "corpus.h"

extern const int bpf_prog_active __ksym;

SEC("raw_tp/sys_enter")
int typed_percpu(void* ctx) {
  int* active = bpf_this_cpu_ptr(&bpf_prog_active);
  return *active;
}

SEC("raw_tp/sys_enter")
int typed_bystander(void* ctx) { return 0; }
