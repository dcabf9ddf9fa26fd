# Cross-building bpfprobe for arm64 (aarch64) on an x86_64 Debian host: Debian's cross compiler
# (g++-aarch64-linux-gnu: its own arm64 libc and libstdc++) plus an extracted tree of Debian arm64
# packages for the rest (libbpf, libelf, zlib, zstd, gtest, the uapi headers), which
# matrix/kmatrix/userland.py fetches from the signed index: nothing arm64 is installed on the host.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake \
#         -DBPFPROBE_ARM64_TREE=$(python3 matrix/userland.py arm64 | tail -1)
# (scripts/build.sh --arch arm64 does this.) Header-only dependencies (Boost, CLI11, nlohmann/json)
# are the host's: the cross compiler searches /usr/include after its own directories.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT BPFPROBE_ARM64_TREE)
  set(BPFPROBE_ARM64_TREE "$ENV{BPFPROBE_ARM64_TREE}")
endif()
if(NOT IS_DIRECTORY "${BPFPROBE_ARM64_TREE}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "BPFPROBE_ARM64_TREE (${BPFPROBE_ARM64_TREE}) is not an extracted arm64 userland "
                      "(python3 matrix/userland.py arm64 prints one)")
endif()
# try_compile projects see the variable too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BPFPROBE_ARM64_TREE)

set(_tree "${BPFPROBE_ARM64_TREE}")
# The tree's headers first (newer uapi than the cross compiler's 6.1 copy, libbpf's, gtest's); it
# holds no libc or libstdc++ headers, so their include_next order is untouched.
set(CMAKE_C_FLAGS_INIT "-isystem ${_tree}/usr/include/aarch64-linux-gnu -isystem ${_tree}/usr/include")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(_rpath_link "-L${_tree}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${_tree}/usr/lib/aarch64-linux-gnu:${_tree}/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_rpath_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_rpath_link}")

set(CMAKE_FIND_ROOT_PATH "${_tree}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config reads only the tree's .pc files, with their paths inside the tree.
set(ENV{PKG_CONFIG_LIBDIR} "${_tree}/usr/lib/aarch64-linux-gnu/pkgconfig:${_tree}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_tree}")
set(ENV{PKG_CONFIG_PATH} "")

# BPF C: __TARGET_ARCH_arm64 (BpfObject.cmake, from CMAKE_SYSTEM_PROCESSOR) and the arm64 asm/ headers.
set(BPFPROBE_BPF_SYSTEM_INCLUDE "${_tree}/usr/include/aarch64-linux-gnu" CACHE PATH "asm/ headers for BPF C")
