// Whether a /proc/kallsyms line shows that the kernel lists its variables (CONFIG_KALLSYMS_ALL).
#pragma once

#include <string_view>

namespace bpfprobe::objcheck {

// init_task is a variable every kernel has, and kallsyms lists it only with CONFIG_KALLSYMS_ALL. Its
// type letter is not relied on (D on most kernels; none of D, d, B, b on Debian amd64 6.16 and
// later). Other data-typed names are no proof: without the option x86 still lists linker markers
// (__start_rodata D, __bss_start B), and Debian's 5.10 arm64 kernel lists further data-typed names.
inline bool shows_kernel_variables(char /*type*/, std::string_view name) { return name == "init_task"; }

}  // namespace bpfprobe::objcheck
