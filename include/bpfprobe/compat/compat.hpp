// The C++ side of bpfprobe's BPF compat layer (bpf/bpfprobe/compat.bpf.h): configure() fills the tier
// flags of an object from probe verdicts before load; output_reader and set_cookie serve the
// accessors that need user space.
#pragma once

#include <bpfprobe/compat/accessors.hpp>
#include <bpfprobe/compat/configure.hpp>
#include <bpfprobe/compat/cookie.hpp>
#include <bpfprobe/compat/output.hpp>
#include <bpfprobe/compat/report.hpp>
