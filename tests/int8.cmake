# int8 libraries (`m1c compile --precision int8`) used as a user would, against PyTorch.
#   Fashion-MNIST: the oracle trains a small MobileOne (tests/oracle/train_fashion_mnist.py,
#     ~4 min on one core) for real weights, a real test set and PyTorch's own int8 on the same
#     model; test_int8.cpp runs `m1c eval` on it (accuracy) and reads the manifests below.
#   host: S0..S4 (random weights, calibrated on 8 random images) by logits' cosine similarity
#     with the oracle's float32 logits; the custom spec with external weights (batch 2,
#     160x96) and for AVX2; a firmware S0.
#   arm-64-linux under qemu-aarch64 -cpu max: S0 and S4 with dot products (sdot), S0 without
#     (plain NEON widening multiplies), each against the host int8 library's logits (the same
#     quantization; the float32 stem and epilogues round differently on each ISA, which moves
#     a few 8-bit codes by one: cosine 0.99997 on S0, 0.99985 on S4) and against float32.
# The cosine floors for the random-weight models are set by their 8-bit pointwise weights:
# quantizing those alone (float32 activations, PyTorch) gives S0 0.9995, S1 0.9986, S2 0.9962,
# S3 0.9980, S4 0.9878 on these fixtures; PyTorch's own int8 0.998, 0.998, 0.994, 0.998,
# 0.970 (README, "int8").
include(${PROJECT_SOURCE_DIR}/generated/m1c.cmake)

set(M1C_I8_DIR ${CMAKE_CURRENT_BINARY_DIR}/m1c_int8)
set(M1C_FM ${M1C_FIXTURES}/fm)

# ---- the trained model --------------------------------------------------------------------
set(M1C_FM_STAMP ${M1C_FM}/fm.stamp)
set(M1C_FM_FILES)
foreach(f fm.json fm.pth.tar fm_test_x.npy fm_test_y.npy fm_calib_x.npy fm_info.json fm_pytorch_int8_pred.npy)
  list(APPEND M1C_FM_FILES ${M1C_FM}/${f})
endforeach()
add_custom_command(OUTPUT ${M1C_FM_STAMP}
  BYPRODUCTS ${M1C_FM_FILES}
  COMMAND ${M1C_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/oracle/train_fashion_mnist.py --out ${M1C_FM}
  COMMAND ${CMAKE_COMMAND} -E touch ${M1C_FM_STAMP}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/oracle/train_fashion_mnist.py
          ${CMAKE_CURRENT_SOURCE_DIR}/oracle/mobileone.py
  COMMENT "Oracle: training a MobileOne on Fashion-MNIST (a few minutes), PyTorch int8 on it"
  VERBATIM)
# Built by `all` (what ctest runs after), not as a dependency of m1c_tests: the sanitizer
# build (tests/sanitize/run) builds m1c_tests alone and runs no int8 suite.
add_custom_target(m1c_fm_fixtures ALL DEPENDS ${M1C_FM_STAMP})

# An int8 library of the random-weight fixtures, calibrated on 8 random images.
function(m1c_int8_library name)
  m1c_add_library(NAME ${name} OUTPUT_DIR ${M1C_I8_DIR}/${name} PRECISION int8
                  DEPENDS ${M1C_MODEL_FIXTURES_STAMP} ${ARGN})
  add_dependencies(${name}_m1c m1c_fixtures)
endfunction()

# ---- host: S0..S4 ---------------------------------------------------------------------------
set(m1c_i8_cosine_s0 0.999)
set(m1c_i8_cosine_s1 0.995)
set(m1c_i8_cosine_s2 0.99)
set(m1c_i8_cosine_s3 0.995)
set(m1c_i8_cosine_s4 0.98)
foreach(v s0 s1 s2 s3 s4)
  # Its ranges are saved and reused by the other libraries of the variant (firmware, ARM64):
  # the same quantization everywhere, and one calibration run per variant instead of one
  # per library (each is a JIT compile of the float32 model with every op as an output).
  m1c_int8_library(m1c_${v}_i8 WEIGHTS ${M1C_FIXTURES}/${v}_fused.pth.tar VARIANT ${v} TARGET host
                   CALIBRATION random:8 SAVE_CALIBRATION ${M1C_I8_DIR}/${v}_random8.json)
  m1c_c_program(run_model_${v}_i8 run_model.c m1c_${v}_i8)
  add_test(NAME int8.${v}.host
           COMMAND run_model_${v}_i8 ${M1C_FIXTURES}/${v}_input.npy ${M1C_FIXTURES}/${v}_logits.npy
                   --cosine ${m1c_i8_cosine_${v}} --save ${M1C_I8_DIR}/${v}_i8_logits.npy)
  set_tests_properties(int8.${v}.host PROPERTIES FIXTURES_SETUP m1c_i8_${v}_logits)
endforeach()
# The cosine check must be able to fail: S0 int8 against S1's logits.
add_test(NAME int8.s0.wrong_logits_detected
         COMMAND run_model_s0_i8 ${M1C_FIXTURES}/s0_input.npy ${M1C_FIXTURES}/s1_logits.npy
                 --cosine 0.999 --expect-mismatch)

# ---- host: custom spec (batch 2, 160x96, channels and classes not multiples of 16) ---------
m1c_int8_library(m1c_custom_i8_ext WEIGHTS ${M1C_FIXTURES}/custom_fused.pth.tar
                 SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2 TARGET host
                 WEIGHTS_MODE external CALIBRATION random:8
                 SAVE_CALIBRATION ${M1C_I8_DIR}/custom_random8.json)
m1c_c_program(run_model_custom_i8_ext run_model.c m1c_custom_i8_ext)
target_compile_definitions(run_model_custom_i8_ext PRIVATE M1C_EXTERNAL)
add_test(NAME int8.custom.external_weights
         COMMAND run_model_custom_i8_ext ${M1C_FIXTURES}/custom_input.npy ${M1C_FIXTURES}/custom_logits.npy
                 --cosine 0.995 --weights ${M1C_I8_DIR}/m1c_custom_i8_ext/m1c_custom_i8_ext.weights
                 --save ${M1C_I8_DIR}/custom_i8_logits.npy)
set_tests_properties(int8.custom.external_weights PROPERTIES FIXTURES_SETUP m1c_i8_custom_logits)
# AVX2 (no VNNI: Halide pairs the multiplies with vpmaddwd), run natively: the same
# quantization as the AVX-512 VNNI library, so the same logits.
m1c_int8_library(m1c_custom_i8_avx2 WEIGHTS ${M1C_FIXTURES}/custom_fused.pth.tar
                 SPEC ${M1C_FIXTURES}/custom.json INPUT_SIZE 160x96 BATCH 2
                 TARGET x86-64-linux-avx2-fma CALIBRATION ${M1C_I8_DIR}/custom_random8.json)
m1c_c_program(run_model_custom_i8_avx2 run_model.c m1c_custom_i8_avx2)
add_test(NAME int8.custom.avx2_matches_avx512
         COMMAND run_model_custom_i8_avx2 ${M1C_FIXTURES}/custom_input.npy
                 ${M1C_I8_DIR}/custom_i8_logits.npy --cosine 0.99999)
set_tests_properties(int8.custom.avx2_matches_avx512 PROPERTIES FIXTURES_REQUIRED m1c_i8_custom_logits)

# ---- host: firmware ---------------------------------------------------------------------------
m1c_int8_library(m1c_s0_i8_fw WEIGHTS ${M1C_FIXTURES}/s0_fused.pth.tar VARIANT s0 TARGET host
                 FIRMWARE CALIBRATION ${M1C_I8_DIR}/s0_random8.json)
m1c_firmware_checks(firmware_checks_s0_i8 m1c_s0_i8_fw)
# Against the threaded int8 library's logits: the same integers, the same float epilogue.
add_test(NAME int8.s0.firmware.checks
         COMMAND firmware_checks_s0_i8 ${M1C_FIXTURES}/s0_input.npy ${M1C_I8_DIR}/s0_i8_logits.npy
                 --tolerance 1e-3)
set_tests_properties(int8.s0.firmware.checks PROPERTIES FIXTURES_REQUIRED m1c_i8_s0_logits)
add_test(NAME int8.s0.firmware.symbols
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DLIBRARY=$<TARGET_PROPERTY:m1c_s0_i8_fw,M1C_LIBRARY>
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/firmware_symbols.cmake)

# ---- arm-64-linux under qemu -cpu max ---------------------------------------------------------
if(M1C_AARCH64_CC AND M1C_QEMU_AARCH64)
  set(m1c_i8_arm_target_s0 arm-64-linux-arm_dot_prod)
  set(m1c_i8_arm_target_s4 arm-64-linux-arm_dot_prod)
  set(m1c_i8_arm_target_s0_nodot arm-64-linux)
  foreach(c s0 s4 s0_nodot)
    string(REGEX REPLACE "_nodot$" "" v ${c})
    set(lib m1c_${c}_i8_arm)
    m1c_int8_library(${lib} WEIGHTS ${M1C_FIXTURES}/${v}_fused.pth.tar VARIANT ${v}
                     TARGET ${m1c_i8_arm_target_${c}} CALIBRATION ${M1C_I8_DIR}/${v}_random8.json)
    set(exe ${CMAKE_CURRENT_BINARY_DIR}/run_model_${c}_i8_arm)
    add_custom_command(OUTPUT ${exe}
      COMMAND ${M1C_AARCH64_CC} -std=c99 -O2 -Wall -Wextra -pedantic -Werror
              -D_POSIX_C_SOURCE=200112L "-DM1C_HEADER=\"${lib}.h\"" -DM1C_NAME=${lib}
              -I${M1C_C_DIR} -I${M1C_I8_DIR}/${lib}
              ${M1C_C_DIR}/run_model.c ${M1C_I8_DIR}/${lib}/lib${lib}.a -lpthread -ldl -lm -o ${exe}
      DEPENDS ${M1C_C_DIR}/run_model.c ${M1C_C_DIR}/npy.h
              ${M1C_I8_DIR}/${lib}/lib${lib}.a ${M1C_I8_DIR}/${lib}/${lib}.h
      COMMENT "Cross-linking run_model for ${lib} (aarch64-linux-gnu-gcc)"
      VERBATIM)
    add_custom_target(run_model_${c}_i8_arm_link ALL DEPENDS ${exe})
    add_dependencies(run_model_${c}_i8_arm_link ${lib}_m1c)
    set(qemu ${M1C_QEMU_AARCH64} -cpu max -L ${M1C_AARCH64_SYSROOT})
    add_test(NAME int8.${c}.arm64_qemu.matches_host
             COMMAND ${qemu} ${exe} ${M1C_FIXTURES}/${v}_input.npy ${M1C_I8_DIR}/${v}_i8_logits.npy
                     --cosine 0.9995)
    add_test(NAME int8.${c}.arm64_qemu.vs_float32
             COMMAND ${qemu} ${exe} ${M1C_FIXTURES}/${v}_input.npy ${M1C_FIXTURES}/${v}_logits.npy
                     --cosine ${m1c_i8_cosine_${v}})
    set_tests_properties(int8.${c}.arm64_qemu.matches_host int8.${c}.arm64_qemu.vs_float32
                         PROPERTIES TIMEOUT 900)
    set_tests_properties(int8.${c}.arm64_qemu.matches_host PROPERTIES FIXTURES_REQUIRED m1c_i8_${v}_logits)
  endforeach()
endif()

# Where test_int8.cpp finds the manifests and the Fashion-MNIST fixtures. The libraries
# whose manifests it reads are built by `all` (their C programs link them), not as
# dependencies of m1c_tests, for the same reason as the Fashion-MNIST fixtures above.
target_compile_definitions(m1c_tests PRIVATE M1C_INT8_LIBS="${M1C_I8_DIR}" M1C_FM_FIXTURES="${M1C_FM}")
