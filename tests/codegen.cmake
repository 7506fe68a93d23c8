# Generated libraries used as a user would: compiled at build time by m1c_add_library from
# the oracle's fixtures, linked into small C99 programs (tests/c/), run under ctest.
#   host: s0..s4 (224x224), custom spec (160x96, batch 2; embedded and external weights)
#   arm-64-linux: s0 and s4, cross-linked with aarch64-linux-gnu-gcc, run under qemu-aarch64
# Every library is compiled once; the tests only run programs.
include(${PROJECT_SOURCE_DIR}/generated/m1c.cmake)

set(M1C_LIB_DIR ${CMAKE_CURRENT_BINARY_DIR}/m1c_libs)
set(M1C_C_DIR ${CMAKE_CURRENT_SOURCE_DIR}/c)

# A library made from the fixtures: waits for them (file and target level, so that the
# fixture command never runs twice in parallel).
function(m1c_fixture_library name)
  m1c_add_library(NAME ${name} OUTPUT_DIR ${M1C_LIB_DIR}/${name}
                  DEPENDS ${M1C_MODEL_FIXTURES_STAMP} ${ARGN})
  add_dependencies(${name}_m1c m1c_fixtures)
endfunction()

# A C99 program of tests/c/ linked against the host library `lib`.
function(m1c_c_program exe source lib)
  add_executable(${exe} ${M1C_C_DIR}/${source})
  set_target_properties(${exe} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_definitions(${exe} PRIVATE _POSIX_C_SOURCE=200112L
                             "M1C_HEADER=\"${lib}.h\"" M1C_NAME=${lib})
  target_compile_options(${exe} PRIVATE -Wall -Wextra -pedantic -Werror)
  target_include_directories(${exe} PRIVATE ${M1C_C_DIR})
  target_link_libraries(${exe} PRIVATE ${lib})
endfunction()

# ---- host: s0..s4 -------------------------------------------------------------------
# Train-time checkpoints for s0, s2, s4 and reparameterised ones for s1, s3: both loaders.
set(m1c_ckpt_s0 s0.pth.tar)
set(m1c_ckpt_s1 s1_fused.pth.tar)
set(m1c_ckpt_s2 s2.pth.tar)
set(m1c_ckpt_s3 s3_fused.pth.tar)
set(m1c_ckpt_s4 s4.pth.tar)
foreach(v s0 s1 s2 s3 s4)
  m1c_fixture_library(m1c_${v} WEIGHTS ${M1C_FIXTURES}/${m1c_ckpt_${v}} VARIANT ${v} TARGET host)
  m1c_c_program(run_model_${v} run_model.c m1c_${v})
  add_test(NAME codegen.${v}.host
           COMMAND run_model_${v} ${M1C_FIXTURES}/${v}_input.npy ${M1C_FIXTURES}/${v}_logits.npy)
endforeach()

# S0 with the tuned records kept in schedules/tuned/ (`m1c_add_library(... SCHEDULE)`; on
# another CPU every op falls back to its default template, and the library must still match).
m1c_fixture_library(m1c_s0_tuned WEIGHTS ${M1C_FIXTURES}/s0.pth.tar VARIANT s0 TARGET host
                    SCHEDULE ${PROJECT_SOURCE_DIR}/schedules/tuned/amd-epyc-avx512.json)
m1c_c_program(run_model_s0_tuned run_model.c m1c_s0_tuned)
add_test(NAME codegen.s0.tuned_records
         COMMAND run_model_s0_tuned ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy)

# The comparison must be able to fail: s0 against its logits with one entry moved by
# 5e-4 x max|logit| (5 times the tolerance).
set(M1C_WRONG_LOGITS ${CMAKE_CURRENT_BINARY_DIR}/s0_logits_wrong.npy)
add_custom_command(OUTPUT ${M1C_WRONG_LOGITS}
  COMMAND ${M1C_PYTHON} -c
    "import numpy as n,sys; a=n.load(sys.argv[1]); a[0,a.shape[1]//2]+=5e-4*n.abs(a).max(); n.save(sys.argv[2],a)"
    ${M1C_FIXTURES}/s0_logits.npy ${M1C_WRONG_LOGITS}
  DEPENDS ${M1C_MODEL_FIXTURES_STAMP}
  COMMENT "Making a deliberately wrong s0 logits file"
  VERBATIM)
add_custom_target(m1c_wrong_logits ALL DEPENDS ${M1C_WRONG_LOGITS})
add_dependencies(m1c_wrong_logits m1c_fixtures)
add_test(NAME codegen.s0.wrong_logits_detected
         COMMAND run_model_s0 ${M1C_FIXTURES}/s0_input.npy ${M1C_WRONG_LOGITS} --expect-mismatch)

# ---- host: custom spec, batch 2, 160x96 ----------------------------------------------
m1c_fixture_library(m1c_custom WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                    SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET host)
m1c_c_program(run_model_custom run_model.c m1c_custom)
add_test(NAME codegen.custom.host
         COMMAND run_model_custom ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)

m1c_c_program(api_checks_custom api_checks.c m1c_custom)
add_test(NAME codegen.custom.api
         COMMAND api_checks_custom 2 3 160 96 10 ${M1C_FIXTURES}/custom_input.npy)

# External weights: N.weights read at run time through N_init.
m1c_fixture_library(m1c_custom_ext WEIGHTS ${M1C_FIXTURES}/custom_fused.pth.tar
                    SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET host
                    WEIGHTS_MODE external)
m1c_c_program(run_model_custom_ext run_model.c m1c_custom_ext)
target_compile_definitions(run_model_custom_ext PRIVATE M1C_EXTERNAL)
add_test(NAME codegen.custom.external_weights
         COMMAND run_model_custom_ext ${M1C_FIXTURES}/custom_input.npy
                 ${M1C_FIXTURES}/custom_logits.npy --weights ${M1C_LIB_DIR}/m1c_custom_ext/m1c_custom_ext.weights)

# Scheduled by one of Halide's autoschedulers (`m1c compile --autoscheduler`; Li2018: the
# quickest to schedule), against the same oracle logits.
m1c_fixture_library(m1c_custom_li2018 WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                    SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET host
                    AUTOSCHEDULER Li2018)
m1c_c_program(run_model_custom_li2018 run_model.c m1c_custom_li2018)
add_test(NAME codegen.custom.autoscheduler_li2018
         COMMAND run_model_custom_li2018 ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)

# Two libraries in one program (Halide runtime symbols are weak), HalideRuntime.h included
# between the two headers.
add_executable(two_models ${M1C_C_DIR}/two_models.c)
set_target_properties(two_models PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_definitions(two_models PRIVATE _POSIX_C_SOURCE=200112L
  "M1C_HEADER_A=\"m1c_s0.h\"" M1C_NAME_A=m1c_s0 "M1C_HEADER_B=\"m1c_custom.h\"" M1C_NAME_B=m1c_custom)
target_compile_options(two_models PRIVATE -Wall -Wextra -Werror)
target_include_directories(two_models PRIVATE ${M1C_C_DIR} /usr/include/halide14)
target_link_libraries(two_models PRIVATE m1c_s0 m1c_custom)
add_test(NAME codegen.two_libraries_one_program
         COMMAND two_models ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy
                 ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)

# ---- arm-64-linux under qemu: s0 and s4 ----------------------------------------------
find_program(M1C_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(M1C_QEMU_AARCH64 qemu-aarch64)
set(M1C_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "qemu-aarch64 -L (target libraries)")
if(M1C_AARCH64_CC AND M1C_QEMU_AARCH64)
  set(m1c_arm_ckpt_s0 s0_fused.pth.tar)
  set(m1c_arm_ckpt_s4 s4.pth.tar)
  foreach(v s0 s4)
    set(lib m1c_${v}_arm)
    m1c_fixture_library(${lib} WEIGHTS ${M1C_FIXTURES}/${m1c_arm_ckpt_${v}} VARIANT ${v}
                        TARGET arm-64-linux)
    set(exe ${CMAKE_CURRENT_BINARY_DIR}/run_model_${v}_arm)
    add_custom_command(OUTPUT ${exe}
      COMMAND ${M1C_AARCH64_CC} -std=c99 -O2 -Wall -Wextra -pedantic -Werror
              -D_POSIX_C_SOURCE=200112L "-DM1C_HEADER=\"${lib}.h\"" -DM1C_NAME=${lib}
              -I${M1C_C_DIR} -I${M1C_LIB_DIR}/${lib}
              ${M1C_C_DIR}/run_model.c ${M1C_LIB_DIR}/${lib}/lib${lib}.a
              -lpthread -ldl -lm -o ${exe}
      DEPENDS ${M1C_C_DIR}/run_model.c ${M1C_C_DIR}/npy.h
              ${M1C_LIB_DIR}/${lib}/lib${lib}.a ${M1C_LIB_DIR}/${lib}/${lib}.h
      COMMENT "Cross-linking run_model for ${lib} (aarch64-linux-gnu-gcc)"
      VERBATIM)
    # (The target's name differs from the file's: Ninja refuses a phony target named like
    # the output it depends on.)
    add_custom_target(run_model_${v}_arm_link ALL DEPENDS ${exe})
    add_dependencies(run_model_${v}_arm_link ${lib}_m1c)
    add_test(NAME codegen.${v}.arm64_qemu
             COMMAND ${M1C_QEMU_AARCH64} -L ${M1C_AARCH64_SYSROOT} ${exe}
                     ${M1C_FIXTURES}/${v}_input.npy ${M1C_FIXTURES}/${v}_logits.npy)
    set_tests_properties(codegen.${v}.arm64_qemu PROPERTIES TIMEOUT 600)
  endforeach()
else()
  message(STATUS "codegen tests: aarch64-linux-gnu-gcc or qemu-aarch64 missing; ARM64 tests skipped")
endif()

# ---- other x86 schedules, run on this host: custom spec for AVX2 and baseline x86-64 --------
# (channel counts and SE widths of the custom spec are not multiples of every vector width.)
foreach(t avx2 sse)
  if(t STREQUAL "avx2")
    set(target x86-64-linux-avx2-fma)
  else()
    set(target x86-64-linux)
  endif()
  m1c_fixture_library(m1c_custom_${t} WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                      SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET ${target})
  m1c_c_program(run_model_custom_${t} run_model.c m1c_custom_${t})
  add_test(NAME codegen.custom.${t}
           COMMAND run_model_custom_${t} ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)
endforeach()

# Two caller threads running inferences on the same library at once.
m1c_c_program(concurrent_runs_s0 concurrent_runs.c m1c_s0)
add_test(NAME codegen.s0.two_threads_at_once
         COMMAND concurrent_runs_s0 ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy)
