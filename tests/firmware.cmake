# Firmware libraries (m1c compile --firmware: single-threaded, heap-free, computing in a
# caller-owned workspace) linked as firmware links them, run with every heap and thread call
# wrapped to abort (tests/c/no_heap_guard.c), compared with the oracle's logits.
#   host:  examples/firmware (its own CMakeLists.txt, added here: library S0 + firmware_s0),
#          firmware_checks on the same library; S0 with float16 weights
#   arm-64-linux under qemu: S0, the example and firmware_checks cross-linked
#   symbols: no thread, dlopen or C++ runtime references in the libraries
# Three libraries in all (S0 host, S0 host f16, S0 ARM64).
include(${PROJECT_SOURCE_DIR}/generated/m1c.cmake)

set(M1C_FW_C_DIR ${CMAKE_CURRENT_SOURCE_DIR}/c)
set(M1C_FW_DIR ${CMAKE_CURRENT_BINARY_DIR}/m1c_firmware)
set(M1C_NO_HEAP_WRAP
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=pthread_create)
# float16 weights: the logits may differ by more than float32 rounding. S0 with the oracle's
# random weights: 7.5e-4 x max|logit| (examples/firmware/README.md); the limit leaves margin.
set(M1C_F16_TOLERANCE 5e-3)

# firmware_checks (tests/c/firmware_checks.c) for the host library `lib`.
function(m1c_firmware_checks exe lib)
  add_executable(${exe} ${M1C_FW_C_DIR}/firmware_checks.c ${M1C_FW_C_DIR}/no_heap_guard.c)
  set_target_properties(${exe} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_definitions(${exe} PRIVATE _DEFAULT_SOURCE "M1C_HEADER=\"${lib}.h\"" M1C_NAME=${lib})
  target_compile_options(${exe} PRIVATE -Wall -Wextra -pedantic -Werror)
  target_include_directories(${exe} PRIVATE ${M1C_FW_C_DIR})
  target_link_libraries(${exe} PRIVATE ${lib})
  target_link_options(${exe} PRIVATE ${M1C_NO_HEAP_WRAP})
endfunction()

# ---- host: the example project, as a user builds it ----------------------------------------
set(M1C_WEIGHTS ${M1C_FIXTURES}/s0.pth.tar)
set(M1C_TARGET host)
set(M1C_WEIGHTS_DTYPE f32)
set(M1C_EXAMPLE_DEPENDS ${M1C_MODEL_FIXTURES_STAMP})
add_subdirectory(${PROJECT_SOURCE_DIR}/examples/firmware ${CMAKE_CURRENT_BINARY_DIR}/example_firmware)
add_dependencies(S0_m1c m1c_fixtures)
# In CI the example also carries the heap/thread guard around S0_run_in.
target_sources(firmware_s0 PRIVATE ${M1C_FW_C_DIR}/no_heap_guard.c)
target_include_directories(firmware_s0 PRIVATE ${M1C_FW_C_DIR})
target_compile_definitions(firmware_s0 PRIVATE M1C_EXAMPLE_GUARD)
target_compile_options(firmware_s0 PRIVATE -Werror)
target_link_options(firmware_s0 PRIVATE ${M1C_NO_HEAP_WRAP})
add_test(NAME firmware.s0.host.example
         COMMAND firmware_s0 ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy)
m1c_firmware_checks(firmware_checks_s0 S0)
add_test(NAME firmware.s0.host.checks
         COMMAND firmware_checks_s0 ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy --repeat 10)

# ---- host: float16 weights ------------------------------------------------------------------
m1c_add_library(NAME m1c_s0_fw16 WEIGHTS ${M1C_FIXTURES}/s0.pth.tar VARIANT s0 TARGET host
                FIRMWARE WEIGHTS_DTYPE f16 OUTPUT_DIR ${M1C_FW_DIR}/m1c_s0_fw16
                DEPENDS ${M1C_MODEL_FIXTURES_STAMP})
add_dependencies(m1c_s0_fw16_m1c m1c_fixtures)
m1c_firmware_checks(firmware_checks_s0_f16 m1c_s0_fw16)
add_test(NAME firmware.s0_f16.host.checks
         COMMAND firmware_checks_s0_f16 ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy
                 --tolerance ${M1C_F16_TOLERANCE})

# ---- the libraries name no thread, dlopen or C++ runtime function ----------------------------
set(M1C_FW_SYMBOLS_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/firmware_symbols.cmake)
add_test(NAME firmware.s0.host.symbols
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DLIBRARY=$<TARGET_PROPERTY:S0,M1C_LIBRARY>
                 -P ${M1C_FW_SYMBOLS_SCRIPT})

# ---- arm-64-linux under qemu -----------------------------------------------------------------
find_program(M1C_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(M1C_AARCH64_NM aarch64-linux-gnu-nm)
find_program(M1C_QEMU_AARCH64 qemu-aarch64)
set(M1C_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "qemu-aarch64 -L (target libraries)")
if(M1C_AARCH64_CC AND M1C_QEMU_AARCH64)
  # Named S0 as in the example (its main.c calls S0_run_in); compiled by m1c directly because
  # the target name S0 belongs to the host library.
  set(dir ${M1C_FW_DIR}/arm64)
  set(lib ${dir}/libS0.a)
  add_custom_command(OUTPUT ${lib} ${dir}/S0.h ${dir}/S0.json
    COMMAND m1c compile --weights ${M1C_FIXTURES}/s0_fused.pth.tar --variant s0
            --target arm-64-linux --firmware --name S0 --out-dir ${dir}
    DEPENDS m1c ${M1C_MODEL_FIXTURES_STAMP}
    COMMENT "m1c: compiling S0 firmware for arm-64-linux"
    VERBATIM)
  add_custom_target(m1c_s0_fw_arm_m1c DEPENDS ${lib})
  add_dependencies(m1c_s0_fw_arm_m1c m1c_fixtures)
  set(arm_flags -std=c99 -O2 -Wall -Wextra -pedantic -Werror -I${dir} -I${M1C_FW_C_DIR})
  set(example ${M1C_FW_DIR}/firmware_s0_arm64)
  set(checks ${M1C_FW_DIR}/firmware_checks_s0_arm64)
  add_custom_command(OUTPUT ${example}
    COMMAND ${M1C_AARCH64_CC} ${arm_flags} -D_POSIX_C_SOURCE=200112L -DM1C_EXAMPLE_GUARD
            ${PROJECT_SOURCE_DIR}/examples/firmware/main.c ${M1C_FW_C_DIR}/no_heap_guard.c
            ${lib} -lm -Wl,--gc-sections ${M1C_NO_HEAP_WRAP} -o ${example}
    DEPENDS ${PROJECT_SOURCE_DIR}/examples/firmware/main.c ${M1C_FW_C_DIR}/no_heap_guard.c
            ${M1C_FW_C_DIR}/no_heap_guard.h ${lib}
    COMMENT "Cross-linking the firmware example for arm64 (aarch64-linux-gnu-gcc)"
    VERBATIM)
  add_custom_command(OUTPUT ${checks}
    COMMAND ${M1C_AARCH64_CC} ${arm_flags} -D_DEFAULT_SOURCE "-DM1C_HEADER=\"S0.h\"" -DM1C_NAME=S0
            ${M1C_FW_C_DIR}/firmware_checks.c ${M1C_FW_C_DIR}/no_heap_guard.c
            ${lib} -lm ${M1C_NO_HEAP_WRAP} -o ${checks}
    DEPENDS ${M1C_FW_C_DIR}/firmware_checks.c ${M1C_FW_C_DIR}/no_heap_guard.c
            ${M1C_FW_C_DIR}/no_heap_guard.h ${M1C_FW_C_DIR}/npy.h ${lib}
    COMMENT "Cross-linking firmware_checks for arm64 (aarch64-linux-gnu-gcc)"
    VERBATIM)
  # (custom target names differ from the outputs' file names: Ninja needs that)
  add_custom_target(m1c_firmware_arm64_programs ALL DEPENDS ${example} ${checks})
  add_dependencies(m1c_firmware_arm64_programs m1c_s0_fw_arm_m1c)
  set(qemu ${M1C_QEMU_AARCH64} -L ${M1C_AARCH64_SYSROOT})
  add_test(NAME firmware.s0.arm64_qemu.example
           COMMAND ${qemu} ${example} ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy)
  add_test(NAME firmware.s0.arm64_qemu.checks
           COMMAND ${qemu} ${checks} ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s0_logits.npy)
  set_tests_properties(firmware.s0.arm64_qemu.example firmware.s0.arm64_qemu.checks
                       PROPERTIES TIMEOUT 600)
  if(M1C_AARCH64_NM)
    add_test(NAME firmware.s0.arm64.symbols
             COMMAND ${CMAKE_COMMAND} -DNM=${M1C_AARCH64_NM} -DLIBRARY=${lib} -P ${M1C_FW_SYMBOLS_SCRIPT})
  endif()
else()
  message(STATUS "firmware tests: aarch64-linux-gnu-gcc or qemu-aarch64 missing; ARM64 tests skipped")
endif()

# The symbol check must be able to fail: an ordinary library (tests/codegen.cmake) names
# pthread_create and dlopen.
if(TARGET m1c_s0)
  add_test(NAME firmware.symbols_check_detects_threads
           COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DLIBRARY=$<TARGET_PROPERTY:m1c_s0,M1C_LIBRARY>
                   -P ${M1C_FW_SYMBOLS_SCRIPT})
  set_tests_properties(firmware.symbols_check_detects_threads PROPERTIES
                       PASS_REGULAR_EXPRESSION "unexpected undefined symbols:.* pthread_create")
endif()
