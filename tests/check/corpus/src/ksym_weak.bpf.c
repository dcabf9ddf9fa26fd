// Weak ksyms that no kernel has resolve to 0 (untyped) or are left out (typed), and the object loads.
#include "corpus.h"

extern const void bpfprobe_corpus_no_such_symbol __ksym __weak;
extern const int bpfprobe_corpus_no_such_var __ksym __weak;
extern const int bpf_prog_active __ksym __weak;

SEC("raw_tp/sys_enter")
int weak_untyped_missing(void* ctx) { return &bpfprobe_corpus_no_such_symbol == 0; }

SEC("raw_tp/sys_enter")
int weak_typed_guarded(void* ctx) {
  if (&bpfprobe_corpus_no_such_var == 0) return 0;
  return *(int*)bpf_this_cpu_ptr(&bpfprobe_corpus_no_such_var);
}

// A weak typed per-CPU variable the kernel has in BTF but not in kallsyms.
SEC("raw_tp/sys_enter")
int weak_typed_present(void* ctx) {
  if (!bpf_ksym_exists(&bpf_prog_active)) return 0;
  return *(int*)bpf_this_cpu_ptr(&bpf_prog_active);
}
