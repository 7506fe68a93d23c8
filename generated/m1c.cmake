# m1c_add_library: compile a MobileOne checkpoint into a static library at build time, the
# way add_halide_library does for Halide generators.
#
#   include(<m1c source>/generated/m1c.cmake)
#   m1c_add_library(NAME <n> WEIGHTS <checkpoint>
#                   [VARIANT <s0..s4> | SPEC <spec.json>]
#                   [TARGET <halide target | host>]     # default: host
#                   [INPUT_SIZE <HxW>] [BATCH <b>]       # default: 224x224, 1
#                   [WEIGHTS_MODE embedded|external]     # default: embedded
#                   [WEIGHTS_DTYPE f32|f16]              # default: f32 (f16: embedded only)
#                   [FIRMWARE]                           # single-threaded, heap-free: N_run_in()
#                   [SCHEDULE <records.json>]            # tuned records from `m1c tune`
#                   [AUTOSCHEDULER <name>]               # Halide's Adams2019|Li2018|Mullapudi2016
#                   [PRECISION f32|int8]                 # default: f32
#                   [CALIBRATION <file|dir|random:N>]    # int8: .npy, image folder or .json
#                   [CALIBRATION_METHOD minmax|percentile|mse]
#                   [SAVE_CALIBRATION <file.json>]       # int8: also write the ranges, for
#                                                        # other libraries' CALIBRATION
#                   [OUTPUT_DIR <dir>]                   # default: ${CMAKE_CURRENT_BINARY_DIR}/m1c/<n>
#                   [DEPENDS <files>...])                # extra file dependencies of the compile
#
# Defines the IMPORTED static library target <n> (lib<n>.a, include directory holding <n>.h,
# links Threads, dl, m; FIRMWARE: m only), built by the custom target <n>_m1c, and sets these
# properties on <n>: M1C_DIR, M1C_LIBRARY, M1C_HEADER, M1C_MANIFEST, M1C_TARGET, M1C_FIRMWARE,
# M1C_WEIGHTS_FILE (external mode only).
# FIRMWARE: `m1c compile --firmware`: no thread pool, no heap; <n>.h declares
# <n>_workspace_bytes() / <n>_WORKSPACE_BYTES and <n>_run_in(input, logits, workspace).
# A library for another target (e.g. TARGET arm-64-linux) cannot be linked by the host
# compiler: use the M1C_LIBRARY / M1C_DIR properties with the cross toolchain.
#
# The m1c executable: the `m1c` target when this file is used inside the m1c build, else
# M1C_EXECUTABLE (or `m1c` found on PATH).
include_guard(GLOBAL)

function(m1c_add_library)
  cmake_parse_arguments(PARSE_ARGV 0 M "FIRMWARE"
    "NAME;WEIGHTS;VARIANT;SPEC;TARGET;INPUT_SIZE;BATCH;WEIGHTS_MODE;WEIGHTS_DTYPE;OUTPUT_DIR;SCHEDULE;AUTOSCHEDULER;PRECISION;CALIBRATION;CALIBRATION_METHOD;SAVE_CALIBRATION" "DEPENDS")
  if(M_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "m1c_add_library: unexpected arguments: ${M_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT M_NAME OR NOT M_WEIGHTS)
    message(FATAL_ERROR "m1c_add_library: NAME and WEIGHTS are required")
  endif()
  if(NOT M_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "m1c_add_library: NAME ${M_NAME} is not a C identifier")
  endif()
  if(M_VARIANT AND M_SPEC)
    message(FATAL_ERROR "m1c_add_library(${M_NAME}): give VARIANT or SPEC, not both")
  endif()
  if(NOT M_TARGET)
    set(M_TARGET host)
  endif()
  if(NOT M_WEIGHTS_MODE)
    set(M_WEIGHTS_MODE embedded)
  endif()
  if(NOT M_WEIGHTS_MODE MATCHES "^(embedded|external)$")
    message(FATAL_ERROR "m1c_add_library(${M_NAME}): WEIGHTS_MODE must be embedded or external")
  endif()
  if(NOT M_WEIGHTS_DTYPE)
    set(M_WEIGHTS_DTYPE f32)
  endif()
  if(NOT M_WEIGHTS_DTYPE MATCHES "^(f32|f16)$")
    message(FATAL_ERROR "m1c_add_library(${M_NAME}): WEIGHTS_DTYPE must be f32 or f16")
  endif()
  if(NOT M_OUTPUT_DIR)
    set(M_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/m1c/${M_NAME})
  endif()

  if(TARGET m1c)
    set(exe $<TARGET_FILE:m1c>)
    set(exe_dep m1c)
  else()
    if(NOT M1C_EXECUTABLE)
      find_program(M1C_EXECUTABLE m1c REQUIRED)
    endif()
    set(exe ${M1C_EXECUTABLE})
    set(exe_dep ${M1C_EXECUTABLE})
  endif()

  set(args compile --weights ${M_WEIGHTS} --target ${M_TARGET} --name ${M_NAME}
           --out-dir ${M_OUTPUT_DIR} --weights-mode ${M_WEIGHTS_MODE}
           --weights-dtype ${M_WEIGHTS_DTYPE})
  set(deps ${exe_dep} ${M_WEIGHTS} ${M_DEPENDS})
  set(what "${M_NAME}")
  if(M_FIRMWARE)
    list(APPEND args --firmware)
    string(APPEND what " firmware")
  endif()
  if(M_VARIANT)
    list(APPEND args --variant ${M_VARIANT})
    string(APPEND what " (${M_VARIANT})")
  endif()
  if(M_SPEC)
    list(APPEND args --spec ${M_SPEC})
    list(APPEND deps ${M_SPEC})
    string(APPEND what " (spec ${M_SPEC})")
  endif()
  if(M_SCHEDULE)
    list(APPEND args --schedule ${M_SCHEDULE})
    list(APPEND deps ${M_SCHEDULE})
    string(APPEND what " [tuned]")
  endif()
  if(M_AUTOSCHEDULER)
    list(APPEND args --autoscheduler ${M_AUTOSCHEDULER})
    string(APPEND what " [${M_AUTOSCHEDULER}]")
  endif()
  if(M_PRECISION AND NOT M_PRECISION MATCHES "^(f32|int8)$")
    message(FATAL_ERROR "m1c_add_library(${M_NAME}): PRECISION must be f32 or int8")
  endif()
  if(M_PRECISION STREQUAL "int8")
    if(NOT M_CALIBRATION)
      message(FATAL_ERROR "m1c_add_library(${M_NAME}): PRECISION int8 needs CALIBRATION")
    endif()
    list(APPEND args --precision int8 --calibration ${M_CALIBRATION})
    if(NOT M_CALIBRATION MATCHES "^random")
      list(APPEND deps ${M_CALIBRATION})
    endif()
    if(M_CALIBRATION_METHOD)
      list(APPEND args --calibration-method ${M_CALIBRATION_METHOD})
    endif()
    if(M_SAVE_CALIBRATION)
      list(APPEND args --save-calibration ${M_SAVE_CALIBRATION})
    endif()
    string(APPEND what " int8")
  elseif(M_CALIBRATION OR M_CALIBRATION_METHOD OR M_SAVE_CALIBRATION)
    message(FATAL_ERROR "m1c_add_library(${M_NAME}): CALIBRATION needs PRECISION int8")
  endif()
  if(M_INPUT_SIZE)
    list(APPEND args --input-size ${M_INPUT_SIZE})
  endif()
  if(M_BATCH)
    list(APPEND args --batch ${M_BATCH})
  endif()

  set(dir ${M_OUTPUT_DIR})
  set(outputs ${dir}/lib${M_NAME}.a ${dir}/${M_NAME}.h ${dir}/${M_NAME}.json)
  if(M_WEIGHTS_MODE STREQUAL "external")
    list(APPEND outputs ${dir}/${M_NAME}.weights)
  endif()
  if(M_SAVE_CALIBRATION)
    list(APPEND outputs ${M_SAVE_CALIBRATION})
  endif()
  # The include directory must exist when CMake generates (imported targets are checked).
  file(MAKE_DIRECTORY ${dir})
  add_custom_command(OUTPUT ${outputs}
    COMMAND ${exe} ${args}
    DEPENDS ${deps}
    COMMENT "m1c: compiling ${what} for ${M_TARGET}"
    VERBATIM)
  add_custom_target(${M_NAME}_m1c DEPENDS ${outputs})

  if(M_FIRMWARE)
    set(link_libs m)  # no thread pool, no dlopen: the Halide runtime is the "noos" one
  else()
    find_package(Threads REQUIRED)
    set(link_libs "Threads::Threads;${CMAKE_DL_LIBS};m")
  endif()
  add_library(${M_NAME} STATIC IMPORTED GLOBAL)
  set_target_properties(${M_NAME} PROPERTIES
    IMPORTED_LOCATION ${dir}/lib${M_NAME}.a
    INTERFACE_INCLUDE_DIRECTORIES ${dir}
    INTERFACE_LINK_LIBRARIES "${link_libs}"
    M1C_DIR ${dir}
    M1C_LIBRARY ${dir}/lib${M_NAME}.a
    M1C_HEADER ${dir}/${M_NAME}.h
    M1C_MANIFEST ${dir}/${M_NAME}.json
    M1C_TARGET ${M_TARGET}
    M1C_FIRMWARE ${M_FIRMWARE})
  if(M_WEIGHTS_MODE STREQUAL "external")
    set_target_properties(${M_NAME} PROPERTIES M1C_WEIGHTS_FILE ${dir}/${M_NAME}.weights)
  endif()
  add_dependencies(${M_NAME} ${M_NAME}_m1c)
endfunction()
