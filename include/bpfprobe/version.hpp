// The library's version (also in CMake's project() and bpfprobe.pc).
#pragma once

namespace bpfprobe {
inline constexpr const char* version = "0.1.0";
}
