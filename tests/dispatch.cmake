# Multi-target libraries (`--target a,b,c` / x86-64-all): one libN.a with a pipeline per
# target, the one to run picked at run time. The same program runs natively (AVX-512 here),
# under `qemu-x86_64 -cpu Haswell` (AVX2+FMA) and `-cpu Nehalem` (SSE4.2, no AVX), each
# checked against PyTorch's logits and for the target it picked; an AVX2-only library under
# Nehalem must die (SIGILL), so that the Nehalem run proves the baseline ran.
# The same for a firmware library and an int8 library of x86-64-all (sections below).
# Cheap: the custom spec at 160x96, batch 2 (the codegen.cmake fixture).
find_program(M1C_QEMU_X86_64 qemu-x86_64)
m1c_fixture_library(m1c_custom_multi WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                    SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET x86-64-all)
m1c_c_program(run_model_custom_multi run_model.c m1c_custom_multi)
set(m1c_custom_io ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)

# Natively: the most specific target this CPU supports (checked to be AVX-512 where
# /proc/cpuinfo lists what avx512_skylake needs).
set(m1c_native_expect)
if(EXISTS /proc/cpuinfo)
  file(READ /proc/cpuinfo m1c_cpuinfo)
  if(m1c_cpuinfo MATCHES " avx512f " AND m1c_cpuinfo MATCHES " avx512cd " AND m1c_cpuinfo MATCHES " avx512bw "
     AND m1c_cpuinfo MATCHES " avx512dq " AND m1c_cpuinfo MATCHES " avx512vl ")
    set(m1c_native_expect --expect-target avx512_skylake)
  endif()
endif()
add_test(NAME dispatch.custom.native COMMAND run_model_custom_multi ${m1c_custom_io} ${m1c_native_expect})

# External weights: one N.weights for every target.
m1c_fixture_library(m1c_custom_multi_ext WEIGHTS ${M1C_FIXTURES}/custom_fused.pth.tar
                    SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET x86-64-all
                    WEIGHTS_MODE external)
m1c_c_program(run_model_custom_multi_ext run_model.c m1c_custom_multi_ext)
target_compile_definitions(run_model_custom_multi_ext PRIVATE M1C_EXTERNAL)
set(m1c_multi_weights --weights ${M1C_LIB_DIR}/m1c_custom_multi_ext/m1c_custom_multi_ext.weights)
add_test(NAME dispatch.custom.external_weights.native
         COMMAND run_model_custom_multi_ext ${m1c_custom_io} ${m1c_multi_weights})

if(M1C_QEMU_X86_64)
  add_test(NAME dispatch.custom.external_weights.qemu_nehalem
           COMMAND ${M1C_QEMU_X86_64} -cpu Nehalem $<TARGET_FILE:run_model_custom_multi_ext> ${m1c_custom_io}
                   ${m1c_multi_weights} --expect-target x86-64-linux-sse41)
  add_test(NAME dispatch.custom.qemu_haswell
           COMMAND ${M1C_QEMU_X86_64} -cpu Haswell $<TARGET_FILE:run_model_custom_multi> ${m1c_custom_io}
                   --expect-target -avx2-f16c)
  add_test(NAME dispatch.custom.qemu_nehalem
           COMMAND ${M1C_QEMU_X86_64} -cpu Nehalem $<TARGET_FILE:run_model_custom_multi> ${m1c_custom_io}
                   --expect-target x86-64-linux-sse41)
  # The test can tell: an AVX2 library (codegen.cmake) under Nehalem does not run.
  # (It must die of SIGILL: status 132 from the shell, not any other failure.)
  add_test(NAME dispatch.custom.avx2_only_fails_on_nehalem
           COMMAND sh -c "\"$0\" -cpu Nehalem \"$1\" \"$2\" \"$3\"; s=$?; echo \"exit status $s\"; test $s -eq 132"
                   ${M1C_QEMU_X86_64} $<TARGET_FILE:run_model_custom_avx2> ${m1c_custom_io})
  set_tests_properties(dispatch.custom.qemu_haswell dispatch.custom.qemu_nehalem
                       dispatch.custom.external_weights.qemu_nehalem
                       dispatch.custom.avx2_only_fails_on_nehalem PROPERTIES TIMEOUT 600)
else()
  message(STATUS "dispatch tests: qemu-x86_64 missing; the emulated-CPU runs are skipped")
endif()

# ---- firmware (--firmware x86-64-all): no heap, no threads, one workspace for every target --
# firmware_checks (firmware.cmake) with the heap and thread guard: exact, fenced, dirty
# workspace of N_WORKSPACE_BYTES (the largest of the targets'), one 64 bytes short refused;
# natively and under Haswell and Nehalem, each against PyTorch and for the target it picked.
# The library names no thread, dlopen or C++ runtime function (firmware_symbols.cmake).
set(m1c_fw_multi_io ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy)
if(COMMAND m1c_firmware_checks)
  m1c_fixture_library(m1c_custom_multi_fw WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                      SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET x86-64-all FIRMWARE)
  m1c_firmware_checks(firmware_checks_custom_multi m1c_custom_multi_fw)
  add_test(NAME dispatch.custom.firmware.native
           COMMAND firmware_checks_custom_multi ${m1c_fw_multi_io} ${m1c_native_expect})
  add_test(NAME dispatch.custom.firmware.symbols
           COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DLIBRARY=$<TARGET_PROPERTY:m1c_custom_multi_fw,M1C_LIBRARY>
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/firmware_symbols.cmake)
  if(M1C_QEMU_X86_64)
    add_test(NAME dispatch.custom.firmware.qemu_haswell
             COMMAND ${M1C_QEMU_X86_64} -cpu Haswell $<TARGET_FILE:firmware_checks_custom_multi> ${m1c_fw_multi_io}
                     --expect-target -avx2-f16c)
    add_test(NAME dispatch.custom.firmware.qemu_nehalem
             COMMAND ${M1C_QEMU_X86_64} -cpu Nehalem $<TARGET_FILE:firmware_checks_custom_multi> ${m1c_fw_multi_io}
                     --expect-target x86-64-noos-sse41)
    set_tests_properties(dispatch.custom.firmware.qemu_haswell dispatch.custom.firmware.qemu_nehalem
                         PROPERTIES TIMEOUT 600)
  endif()
endif()

# ---- int8 (--precision int8 x86-64-all): each target with its own int8 lowering -----------
# Calibrated once (int8.cmake's saved ranges of the custom spec: the host int8 library's
# quantization), u8 activations on every x86-64 target (no VNNI in the preset: vpmaddwd
# on AVX-512 and AVX2, pmaddwd on SSE4.1).
# Against PyTorch's float32 logits with int8.cmake's floor for this model (cosine 0.995),
# natively, under Haswell and Nehalem, each for the target it picked; and against the host
# int8 library's logits (the same integers; float epilogues round differently without FMA).
# The int8 AVX2 library (int8.cmake) dies under Nehalem: the Nehalem run is the baseline's.
if(TARGET m1c_custom_i8_ext)
  m1c_fixture_library(m1c_custom_multi_i8 WEIGHTS ${M1C_FIXTURES}/custom_fused.pth.tar
                      SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET x86-64-all
                      PRECISION int8 CALIBRATION ${M1C_I8_DIR}/custom_random8.json)
  m1c_c_program(run_model_custom_multi_i8 run_model.c m1c_custom_multi_i8)
  set(m1c_i8_vs_f32 ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy --cosine 0.995)
  set(m1c_i8_vs_host ${M1C_FIXTURES}/custom_input.npy ${M1C_I8_DIR}/custom_i8_logits.npy)
  add_test(NAME dispatch.custom.int8.native
           COMMAND run_model_custom_multi_i8 ${m1c_i8_vs_f32} ${m1c_native_expect})
  add_test(NAME dispatch.custom.int8.native_matches_host
           COMMAND run_model_custom_multi_i8 ${m1c_i8_vs_host} --cosine 0.99999)
  set_tests_properties(dispatch.custom.int8.native_matches_host PROPERTIES FIXTURES_REQUIRED m1c_i8_custom_logits)
  if(M1C_QEMU_X86_64)
    set(exe $<TARGET_FILE:run_model_custom_multi_i8>)
    add_test(NAME dispatch.custom.int8.qemu_haswell
             COMMAND ${M1C_QEMU_X86_64} -cpu Haswell ${exe} ${m1c_i8_vs_f32} --expect-target -avx2-f16c)
    add_test(NAME dispatch.custom.int8.qemu_nehalem
             COMMAND ${M1C_QEMU_X86_64} -cpu Nehalem ${exe} ${m1c_i8_vs_f32} --expect-target x86-64-linux-sse41)
    add_test(NAME dispatch.custom.int8.qemu_nehalem_matches_host
             COMMAND ${M1C_QEMU_X86_64} -cpu Nehalem ${exe} ${m1c_i8_vs_host} --cosine 0.9995)
    add_test(NAME dispatch.custom.int8.avx2_only_fails_on_nehalem
             COMMAND sh -c "\"$0\" -cpu Nehalem \"$1\" \"$2\" \"$3\"; s=$?; echo \"exit status $s\"; test $s -eq 132"
                     ${M1C_QEMU_X86_64} $<TARGET_FILE:run_model_custom_i8_avx2> ${m1c_custom_io})
    set_tests_properties(dispatch.custom.int8.qemu_haswell dispatch.custom.int8.qemu_nehalem
                         dispatch.custom.int8.qemu_nehalem_matches_host
                         dispatch.custom.int8.avx2_only_fails_on_nehalem PROPERTIES TIMEOUT 600)
    set_tests_properties(dispatch.custom.int8.qemu_nehalem_matches_host PROPERTIES FIXTURES_REQUIRED m1c_i8_custom_logits)
  endif()
endif()

# ARM64 (arm64-all): dot products + fp16, or plain ARMv8, under qemu-aarch64 as a CPU with them
# (-cpu max) and an ARMv8.0 core without (-cpu cortex-a53). Halide 14's runtime cannot tell
# them apart; N.h checks the kernel's HWCAP bits (c_header.cpp).
find_program(M1C_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(M1C_QEMU_AARCH64 qemu-aarch64)
if(M1C_AARCH64_CC AND M1C_QEMU_AARCH64)
  set(lib m1c_custom_multi_arm)
  m1c_fixture_library(${lib} WEIGHTS ${M1C_FIXTURES}/custom.pth.tar
                      SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET arm64-all)
  set(exe ${CMAKE_CURRENT_BINARY_DIR}/run_model_custom_multi_arm)
  add_custom_command(OUTPUT ${exe}
    COMMAND ${M1C_AARCH64_CC} -std=c99 -O2 -Wall -Wextra -pedantic -Werror
            -D_POSIX_C_SOURCE=200112L "-DM1C_HEADER=\"${lib}.h\"" -DM1C_NAME=${lib}
            -I${M1C_C_DIR} -I${M1C_LIB_DIR}/${lib}
            ${M1C_C_DIR}/run_model.c ${M1C_LIB_DIR}/${lib}/lib${lib}.a -lpthread -ldl -lm -o ${exe}
    DEPENDS ${M1C_C_DIR}/run_model.c ${M1C_C_DIR}/npy.h
            ${M1C_LIB_DIR}/${lib}/lib${lib}.a ${M1C_LIB_DIR}/${lib}/${lib}.h
    COMMENT "Cross-linking run_model for ${lib} (aarch64-linux-gnu-gcc)"
    VERBATIM)
  add_custom_target(run_model_custom_multi_arm_link ALL DEPENDS ${exe})
  add_dependencies(run_model_custom_multi_arm_link ${lib}_m1c)
  add_test(NAME dispatch.custom.arm64_qemu_max
           COMMAND ${M1C_QEMU_AARCH64} -cpu max -L ${M1C_AARCH64_SYSROOT} ${exe} ${m1c_custom_io}
                   --expect-target arm_dot_prod)
  add_test(NAME dispatch.custom.arm64_qemu_cortex_a53
           COMMAND ${M1C_QEMU_AARCH64} -cpu cortex-a53 -L ${M1C_AARCH64_SYSROOT} ${exe} ${m1c_custom_io}
                   --expect-target arm-64-linux-user_context)
  set_tests_properties(dispatch.custom.arm64_qemu_max dispatch.custom.arm64_qemu_cortex_a53 PROPERTIES TIMEOUT 600)
endif()
