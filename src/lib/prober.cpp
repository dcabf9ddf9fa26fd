// The compiled library's prober: the handle of bpfprobe/prober.hpp over the full prober, whose code is
// compiled here once instead of in every application source file.
#define BPFPROBE_IMPLEMENTATION
#include <bpfprobe/prober.hpp>
