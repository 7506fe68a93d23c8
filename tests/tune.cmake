# Autotuning flows through the CLI (tests/tune_flow.sh); the unit tests are test_tune.cpp.
#   tune.s0.host_library: tune S0 briefly, compile the oracle checkpoint with the records,
#     link run_model.c, compare with PyTorch's logits.
#   tune.s4.kept_records_library: S4 compiled with schedules/tuned/ records vs the oracle.
#   tune.s0.arm64_qemu: tune for arm-64-linux with the qemu runner; records valid and used.
find_program(M1C_HOST_CC NAMES cc gcc)
add_test(NAME tune.s0.host_library
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tune_flow.sh host $<TARGET_FILE:m1c> ${M1C_HOST_CC}
                 ${CMAKE_CURRENT_SOURCE_DIR}/c ${M1C_FIXTURES} ${CMAKE_CURRENT_BINARY_DIR}/tune_host)
set_tests_properties(tune.s0.host_library PROPERTIES TIMEOUT 600)

# The kept records of schedules/tuned/ (S4: squeeze-excite ops too), oracle checkpoint.
add_test(NAME tune.s4.kept_records_library
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tune_flow.sh records $<TARGET_FILE:m1c> ${M1C_HOST_CC}
                 ${CMAKE_CURRENT_SOURCE_DIR}/c ${M1C_FIXTURES} ${CMAKE_CURRENT_BINARY_DIR}/tune_kept_s4
                 s4 s4.pth.tar ${PROJECT_SOURCE_DIR}/schedules/tuned/amd-epyc-avx512.json)
set_tests_properties(tune.s4.kept_records_library PROPERTIES TIMEOUT 600)

find_program(M1C_TUNE_QEMU qemu-aarch64)
find_program(M1C_TUNE_AARCH64_CC aarch64-linux-gnu-gcc)
if(M1C_TUNE_QEMU AND M1C_TUNE_AARCH64_CC)
  add_test(NAME tune.s0.arm64_qemu
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tune_flow.sh qemu $<TARGET_FILE:m1c>
                   ${M1C_TUNE_QEMU} /usr/aarch64-linux-gnu ${M1C_FIXTURES}
                   ${CMAKE_CURRENT_BINARY_DIR}/tune_qemu)
  set_tests_properties(tune.s0.arm64_qemu PROPERTIES TIMEOUT 600)
else()
  message(STATUS "tune tests: qemu-aarch64 or aarch64-linux-gnu-gcc missing; qemu runner test skipped")
endif()
