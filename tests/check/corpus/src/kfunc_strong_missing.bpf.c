// A strong kfunc extern no kernel has: libbpf fails the whole object, every program with it.
#include "corpus.h"

extern int bpfprobe_corpus_strong_missing_kfunc(void) __ksym;

SEC("tp_btf/sched_switch")
int strong_missing_caller(void* ctx) { return bpfprobe_corpus_strong_missing_kfunc(); }

SEC("tp_btf/sched_switch")
int strong_missing_bystander(void* ctx) { return 0; }
