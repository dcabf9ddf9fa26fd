// A strong kconfig extern the kernel's config does not have: libbpf fails the object.
#include "corpus.h"

extern bool CONFIG_BPFPROBE_CORPUS_REQUIRED_OPTION __kconfig;

SEC("raw_tp/sys_enter")
int kc_required_missing(void* ctx) { return CONFIG_BPFPROBE_CORPUS_REQUIRED_OPTION; }

SEC("raw_tp/sys_enter")
int kc_required_bystander(void* ctx) { return 0; }
