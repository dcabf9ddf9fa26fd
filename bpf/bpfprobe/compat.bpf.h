/* bpfprobe's BPF-side compat layer: accessors that pick the best way this kernel offers, switched by
 * read-only tier flags that bpfprobe::compat::configure() fills from probe verdicts before load.
 * Include after nothing or after your own vmlinux.h; each topic header can also be included alone. */
#ifndef BPFPROBE_COMPAT_BPF_H
#define BPFPROBE_COMPAT_BPF_H

#include <bpfprobe/compat/dynptr.bpf.h>
#include <bpfprobe/compat/loops.bpf.h>
#include <bpfprobe/compat/output.bpf.h>
#include <bpfprobe/compat/read.bpf.h>
#include <bpfprobe/compat/task.bpf.h>
#include <bpfprobe/compat/time.bpf.h>
#include <bpfprobe/compat/trace.bpf.h>

#endif /* BPFPROBE_COMPAT_BPF_H */
