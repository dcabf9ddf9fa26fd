// How bpfprobe is consumed. Header-only (the default, or BPFPROBE_HEADER_ONLY): every definition is in
// the headers. The compiled library (CMake bpfprobe::bpfprobe, pkg-config bpfprobe) defines
// BPFPROBE_COMPILED_LIB: the public headers then only declare, and libbpfprobe holds the definitions.
#pragma once

#if defined(BPFPROBE_COMPILED_LIB) && !defined(BPFPROBE_HEADER_ONLY)
#define BPFPROBE_INLINE
#else
#ifndef BPFPROBE_HEADER_ONLY
#define BPFPROBE_HEADER_ONLY 1
#endif
#define BPFPROBE_INLINE inline
#endif
