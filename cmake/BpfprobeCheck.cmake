# Checking built BPF objects with `bpfprobe check`: will each program load on this machine's kernel?
#
#   bpfprobe_check(TARGET <target-or-file>
#     [NAME <name>]                         # test or build target name; default bpfprobe_check.<target or
#                                           # file stem> (the target: bpfprobe_check_<...>)
#     [AS_TEST | AS_BUILD_STEP]             # a CTest test (default), or a step of the `all` build
#     [FORMAT text|json|github|junit|sarif] # --format (default text)
#     [OUTPUT <file>]                       # AS_BUILD_STEP: write the report here instead of the build log
#     [PROGRAMS <prog>...]                  # --prog: check only these programs
#     [NO_LOAD]                             # --no-load: static prediction, nothing is loaded
#     [STRICT])                             # an unknown verdict fails too
#
# TARGET is a target made by bpfprobe_add_bpf_object() (BpfObject.cmake: its linked <name>.bpf.o) or
# the path of a .bpf.o (relative paths are taken in the current binary directory). The object is
# built before the check (as part of `all` for AS_TEST, so `ctest` finds it).
#
# Exit codes of the check decide: 0 (every program loads) passes, 1 (one does not) or 2 (bad input)
# fails. 3 (a verdict is unknown: not permitted, e.g. a trial load without root or under lockdown; a
# target set at run time) is a skipped test and a warning of the build step, unless STRICT.
#
# The check is of the kernel the test or build runs on. Checking against other kernels is not
# something `bpfprobe check` does (bpfprobe's kernel matrix does, matrix/run.py --object): KERNELS is
# reserved for when the CLI can, and an error until then.
#
# The CLI: BPFPROBE_EXECUTABLE, else the bpfprobe of the installed package (bpfprobeConfig.cmake
# sets BPFPROBE_BINDIR), else bpfprobe on the PATH, else the bpfprobe-cli target of a source tree.
include_guard(GLOBAL)

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  # cmake [-DBPFPROBE_CHECK_OUTPUT=F] [-DBPFPROBE_CHECK_STRICT=1] -DBPFPROBE_CHECK_STAMP=S -P this-file -- CLI ARGS...
  # (the build step; exit codes as above, the stamp written when the step passed).
  set(cmd)
  set(collect OFF)
  math(EXPR last "${CMAKE_ARGC} - 1")
  foreach(i RANGE 0 ${last})
    if(collect)
      list(APPEND cmd "${CMAKE_ARGV${i}}")
    elseif(CMAKE_ARGV${i} STREQUAL "--")
      set(collect ON)
    endif()
  endforeach()
  if(BPFPROBE_CHECK_OUTPUT)
    execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_FILE "${BPFPROBE_CHECK_OUTPUT}")
  else()
    execute_process(COMMAND ${cmd} RESULT_VARIABLE rc)
  endif()
  set(report "")
  if(BPFPROBE_CHECK_OUTPUT)
    set(report " (report: ${BPFPROBE_CHECK_OUTPUT})")
  endif()
  if(rc STREQUAL "3" AND NOT BPFPROBE_CHECK_STRICT)
    message(WARNING "bpfprobe check: a verdict is unknown here (not permitted, or decided at run time)${report}")
  elseif(NOT rc STREQUAL "0")
    message(FATAL_ERROR "bpfprobe check failed (exit ${rc}): a program does not load here, or bad input${report}")
  endif()
  file(TOUCH "${BPFPROBE_CHECK_STAMP}")
  return()
endif()

set(BPFPROBE_EXECUTABLE "" CACHE FILEPATH "bpfprobe command that bpfprobe_check() runs")

function(_bpfprobe_check_cli out_var)
  if(BPFPROBE_EXECUTABLE)
    set(${out_var} "${BPFPROBE_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(BPFPROBE_BINDIR)
    find_program(BPFPROBE_CHECK_CLI bpfprobe HINTS "${BPFPROBE_BINDIR}" NO_DEFAULT_PATH)
  endif()
  if(NOT BPFPROBE_CHECK_CLI AND NOT TARGET bpfprobe-cli)
    find_program(BPFPROBE_CHECK_CLI bpfprobe)
  endif()
  if(BPFPROBE_CHECK_CLI)
    set(${out_var} "${BPFPROBE_CHECK_CLI}" PARENT_SCOPE)
  elseif(TARGET bpfprobe-cli)
    set(${out_var} "$<TARGET_FILE:bpfprobe-cli>" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "bpfprobe_check(): no bpfprobe command found; set BPFPROBE_EXECUTABLE")
  endif()
endfunction()

function(bpfprobe_check)
  cmake_parse_arguments(PARSE_ARGV 0 arg "AS_TEST;AS_BUILD_STEP;NO_LOAD;STRICT" "TARGET;NAME;FORMAT;OUTPUT"
                        "PROGRAMS;KERNELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "bpfprobe_check(): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_TARGET)
    message(FATAL_ERROR "bpfprobe_check(): TARGET is required")
  endif()
  if(arg_KERNELS)
    message(FATAL_ERROR "bpfprobe_check(): KERNELS is reserved: bpfprobe check checks the running kernel only "
                        "(matrix/run.py --object checks an object on other kernels)")
  endif()
  if(arg_AS_TEST AND arg_AS_BUILD_STEP)
    message(FATAL_ERROR "bpfprobe_check(): AS_TEST and AS_BUILD_STEP exclude each other")
  endif()
  if(arg_OUTPUT AND NOT arg_AS_BUILD_STEP)
    message(FATAL_ERROR "bpfprobe_check(): OUTPUT is for AS_BUILD_STEP (a test's output is in the CTest log)")
  endif()
  if(NOT arg_FORMAT)
    set(arg_FORMAT text)
  endif()
  if(NOT arg_FORMAT MATCHES "^(text|json|github|junit|sarif)$")
    message(FATAL_ERROR "bpfprobe_check(): FORMAT must be text, json, github, junit or sarif, not ${arg_FORMAT}")
  endif()

  # The object file and what builds it.
  set(depend_target)
  if(TARGET ${arg_TARGET})
    get_target_property(object ${arg_TARGET} BPFPROBE_OBJECT)
    if(NOT object)
      message(FATAL_ERROR "bpfprobe_check(): target ${arg_TARGET} has no BPF object "
                          "(make it with bpfprobe_add_bpf_object())")
    endif()
    set(depend_target ${arg_TARGET})
    set(stem ${arg_TARGET})
  else()
    get_filename_component(object "${arg_TARGET}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
    get_filename_component(stem "${object}" NAME_WE)
  endif()
  if(NOT arg_NAME)
    set(arg_NAME bpfprobe_check.${stem})
  endif()
  string(MAKE_C_IDENTIFIER "${arg_NAME}" target_name)

  _bpfprobe_check_cli(cli)
  set(args check --format ${arg_FORMAT})
  if(arg_NO_LOAD)
    list(APPEND args --no-load)
  endif()
  foreach(prog IN LISTS arg_PROGRAMS)
    list(APPEND args --prog ${prog})
  endforeach()

  if(arg_AS_BUILD_STEP)
    set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${target_name}.stamp")
    set(script_args -DBPFPROBE_CHECK_STAMP=${stamp})
    if(arg_OUTPUT)
      get_filename_component(output "${arg_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
      list(APPEND script_args -DBPFPROBE_CHECK_OUTPUT=${output})
    endif()
    if(arg_STRICT)
      list(APPEND script_args -DBPFPROBE_CHECK_STRICT=1)
    endif()
    add_custom_command(OUTPUT "${stamp}"
      COMMAND ${CMAKE_COMMAND} ${script_args} -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}" -- "${cli}" ${args} "${object}"
      DEPENDS "${object}"
      COMMENT "bpfprobe check ${object}"
      VERBATIM)
    add_custom_target(${target_name} ALL DEPENDS "${stamp}")
  else()
    add_test(NAME ${arg_NAME} COMMAND "${cli}" ${args} "${object}")
    set_tests_properties(${arg_NAME} PROPERTIES LABELS bpfprobe_check)
    if(NOT arg_STRICT)
      set_tests_properties(${arg_NAME} PROPERTIES SKIP_RETURN_CODE 3)
    endif()
    # The object is part of `all`, so a build before ctest makes it.
    string(APPEND target_name _object)
    add_custom_target(${target_name} ALL DEPENDS "${object}")
  endif()
  if(depend_target)
    add_dependencies(${target_name} ${depend_target})
  endif()
endfunction()
