# Compiling BPF C (CO-RE, kfunc externs) and generating libbpf skeletons.
#
#   bpfprobe_add_bpf_object(<name>
#     SOURCES a.bpf.c [b.bpf.c ...]     # several sources are linked with `bpftool gen object`
#     [DEFINES FOO BAR=1 ...]           # -D for clang
#     [INCLUDES dir ...]                # extra -I for clang
#     [OPTIONS -mcpu=v3 ...])           # extra clang flags
#
# gives <build>/bpf/<name>.bpf.o and <name>.skel.h (skeleton named <name>: struct <name>,
# <name>__open_and_load(), ...) and an INTERFACE target <name> to link against for the include path
# and the build dependency (its property BPFPROBE_OBJECT is the .bpf.o, for bpfprobe_check()). The
# skeleton embeds the object, so the program that includes it needs no file at run time (tests run
# from an initramfs without a compiler).
#
# vmlinux.h is generated once per build tree from BPFPROBE_VMLINUX_BTF (default: the running
# kernel's /sys/kernel/btf/vmlinux) with `bpftool btf dump ... format c`; it is never checked in.
# Set BPFPROBE_VMLINUX_H to use a vmlinux.h you have instead.
include_guard(GLOBAL)

find_program(BPFPROBE_BPF_CLANG NAMES clang clang-19 clang-16 clang-14 REQUIRED
             DOC "clang used for -target bpf")
find_program(BPFPROBE_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED DOC "bpftool for vmlinux.h and skeletons")

set(BPFPROBE_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF that vmlinux.h is generated from")
set(BPFPROBE_VMLINUX_H "" CACHE FILEPATH "Use this vmlinux.h instead of generating one")

# The compat headers: bpf/ and include/ (bpfprobe/compat/tiers.h, shared with C++) in the source
# tree; both are installed into include/, three levels above lib/cmake/bpfprobe.
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/../bpf/bpfprobe")
  set(BPFPROBE_BPF_INCLUDE_DIRS "${CMAKE_CURRENT_LIST_DIR}/../bpf" "${CMAKE_CURRENT_LIST_DIR}/../include"
      CACHE INTERNAL "include directories for BPF C")
else()
  get_filename_component(_bpfprobe_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
  set(BPFPROBE_BPF_INCLUDE_DIRS "${_bpfprobe_prefix}/include" CACHE INTERNAL "include directories for BPF C")
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  set(_bpfprobe_arch x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_bpfprobe_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(_bpfprobe_arch arm)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc64|ppc64le|powerpc64)")
  set(_bpfprobe_arch powerpc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^s390")
  set(_bpfprobe_arch s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv")
  set(_bpfprobe_arch riscv)
else()
  set(_bpfprobe_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()
set(BPFPROBE_BPF_TARGET_ARCH ${_bpfprobe_arch} CACHE STRING "__TARGET_ARCH_<arch> for bpf_tracing.h")

function(_bpfprobe_vmlinux_h out_dir_var)
  set(dir "${CMAKE_BINARY_DIR}/vmlinux")
  if(NOT TARGET bpfprobe_vmlinux_h)
    if(BPFPROBE_VMLINUX_H)
      add_custom_command(OUTPUT "${dir}/vmlinux.h"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
        COMMAND ${CMAKE_COMMAND} -E copy_if_different "${BPFPROBE_VMLINUX_H}" "${dir}/vmlinux.h"
        DEPENDS "${BPFPROBE_VMLINUX_H}"
        COMMENT "Copying vmlinux.h")
    else()
      if(NOT EXISTS "${BPFPROBE_VMLINUX_BTF}")
        message(FATAL_ERROR "bpfprobe: ${BPFPROBE_VMLINUX_BTF} does not exist; set BPFPROBE_VMLINUX_BTF or BPFPROBE_VMLINUX_H")
      endif()
      # Written to a temporary first so an interrupted dump never leaves a truncated vmlinux.h behind.
      add_custom_command(OUTPUT "${dir}/vmlinux.h"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
        COMMAND ${BPFPROBE_BPFTOOL} btf dump file "${BPFPROBE_VMLINUX_BTF}" format c > "${dir}/vmlinux.h.tmp"
        COMMAND ${CMAKE_COMMAND} -E rename "${dir}/vmlinux.h.tmp" "${dir}/vmlinux.h"
        COMMENT "Generating vmlinux.h from ${BPFPROBE_VMLINUX_BTF}"
        VERBATIM)
    endif()
    add_custom_target(bpfprobe_vmlinux_h DEPENDS "${dir}/vmlinux.h")
  endif()
  set(${out_dir_var} "${dir}" PARENT_SCOPE)
endfunction()

function(bpfprobe_add_bpf_object name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEFINES;INCLUDES;OPTIONS")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "bpfprobe_add_bpf_object(${name}): SOURCES is required")
  endif()
  _bpfprobe_vmlinux_h(vmlinux_dir)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/bpf")

  set(flags -g -O2 -target bpf -D__TARGET_ARCH_${BPFPROBE_BPF_TARGET_ARCH} -I${vmlinux_dir})
  foreach(dir IN LISTS BPFPROBE_BPF_INCLUDE_DIRS arg_INCLUDES)
    list(APPEND flags -I${dir})
  endforeach()
  if(BPFPROBE_BPF_SYSTEM_INCLUDE)
    list(APPEND flags -idirafter ${BPFPROBE_BPF_SYSTEM_INCLUDE})
  elseif(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND flags -idirafter /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  foreach(def IN LISTS arg_DEFINES)
    list(APPEND flags -D${def})
  endforeach()
  list(APPEND flags ${arg_OPTIONS})

  set(objects)
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(src_abs "${src}" ABSOLUTE)
    get_filename_component(stem "${src}" NAME_WE)
    set(obj "${out_dir}/${name}.${stem}.o")
    add_custom_command(OUTPUT "${obj}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
      COMMAND ${BPFPROBE_BPF_CLANG} ${flags} -MD -MF "${obj}.d" -c "${src_abs}" -o "${obj}"
      DEPENDS "${src_abs}" "${vmlinux_dir}/vmlinux.h"
      DEPFILE "${obj}.d"
      COMMENT "BPF ${name}: ${src}"
      COMMAND_EXPAND_LISTS VERBATIM)
    list(APPEND objects "${obj}")
  endforeach()

  set(linked "${out_dir}/${name}.bpf.o")
  add_custom_command(OUTPUT "${linked}"
    COMMAND ${BPFPROBE_BPFTOOL} gen object "${linked}" ${objects}
    DEPENDS ${objects}
    COMMENT "BPF ${name}: linking"
    VERBATIM)

  set(skel "${out_dir}/${name}.skel.h")
  add_custom_command(OUTPUT "${skel}"
    COMMAND ${BPFPROBE_BPFTOOL} gen skeleton "${linked}" name ${name} > "${skel}.tmp"
    COMMAND ${CMAKE_COMMAND} -E rename "${skel}.tmp" "${skel}"
    DEPENDS "${linked}"
    COMMENT "BPF ${name}: skeleton"
    VERBATIM)

  add_custom_target(${name}_skel DEPENDS "${skel}")
  add_dependencies(${name}_skel bpfprobe_vmlinux_h)
  add_library(${name} INTERFACE)
  target_include_directories(${name} INTERFACE "${out_dir}")
  add_dependencies(${name} ${name}_skel)
  # The linked object, for bpfprobe_check(TARGET <name>) (BpfprobeCheck.cmake).
  set_target_properties(${name} PROPERTIES BPFPROBE_OBJECT "${linked}")
endfunction()
