// The attach layer: one call per hook attaches a program by the best path the running kernel allows
// (decide/), returns an RAII attachment, and records why other paths were not used.
#pragma once

#include <bpfprobe/attach/attachment.hpp>
#include <bpfprobe/attach/cgroup.hpp>
#include <bpfprobe/attach/iter.hpp>
#include <bpfprobe/attach/kprobe.hpp>
#include <bpfprobe/attach/libbpf.hpp>
#include <bpfprobe/attach/output.hpp>
#include <bpfprobe/attach/policy.hpp>
#include <bpfprobe/attach/tc.hpp>
#include <bpfprobe/attach/tracepoint.hpp>
#include <bpfprobe/attach/uprobe.hpp>
#include <bpfprobe/attach/xdp.hpp>
