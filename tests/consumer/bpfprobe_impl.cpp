// The header-only mode's implementation file: the one source file of an application that compiles the
// prober (bpfprobe/prober.hpp). It holds nothing else.
#define BPFPROBE_IMPLEMENTATION
#include <bpfprobe/prober.hpp>
