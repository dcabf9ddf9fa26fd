// bpfprobe: feature probing for BPF applications. Umbrella header.
#pragma once

#include <bpfprobe/attach/attach.hpp>
#include <bpfprobe/btf/kernel_btf.hpp>
#include <bpfprobe/compat/compat.hpp>
#include <bpfprobe/decide/decide.hpp>
#include <bpfprobe/insn/insn.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/prober/prober.hpp>
#include <bpfprobe/report/model.hpp>
#include <bpfprobe/sys/bpf.hpp>
#include <bpfprobe/sys/result.hpp>
#include <bpfprobe/sys/syscalls.hpp>
#include <bpfprobe/sys/unique_fd.hpp>
#include <bpfprobe/version.hpp>
