# The Debian package: `cpack -G DEB` in a build directory (after the build) makes
# bpfprobe_<version>_<arch>.deb with the stripped CLI, the headers (C++ and BPF), the CMake package
# (find_package(bpfprobe)) and bpfprobe.pc, installed under /usr. Dependencies: the CLI's shared libraries
# (dpkg-shlibdeps) and the development packages the headers need.
set(CPACK_PACKAGE_NAME bpfprobe)
set(CPACK_PACKAGE_VENDOR bpfprobe)
set(CPACK_PACKAGE_CONTACT "bpfprobe maintainers <bpfprobe@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Probe the running kernel's BPF features: CLI and C++20 library")
set(CPACK_PACKAGE_DESCRIPTION
    "bpfprobe tells which BPF program types, maps, helpers, kfuncs, links and attach paths the running kernel "
    "supports, each verdict with its reason and evidence. The package holds the bpfprobe command, the "
    "C++ headers, the CMake package and a pkg-config file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libbpf-dev (>= 1:1.0), libelf-dev, libzstd-dev, zlib1g-dev, libboost-dev (>= 1.74), pkg-config")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, clang, bpftool")
include(CPack)
