# `m1c bench` smoke tests: speed is a benchmark (bench/compare), not a timed test; these only
# check that the command runs (random S0 weights, JIT on the host), exits 0 and reports.
set(M1C_BENCH_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/bench_check.cmake)

add_test(NAME bench.s0.smoke
         COMMAND ${CMAKE_COMMAND} -DM1C=$<TARGET_FILE:m1c>
                 "-DARGS=bench|--variant|s0|--runs|3|--threads|1"
                 "-DEXPECT=latency: median [0-9]+[.][0-9]+ ms.*FMA peak .*GFLOP/s.*percent of peak"
                 -P ${M1C_BENCH_CHECK})
add_test(NAME bench.s0.per_layer_json
         COMMAND ${CMAKE_COMMAND} -DM1C=$<TARGET_FILE:m1c>
                 "-DARGS=bench|--variant|s0|--runs|2|--warmup|1|--threads|1|--per-layer|--json"
                 "-DEXPECT=.median.: [0-9].*.per_layer.:.*.layers.:.*stage2.7.reparam_conv"
                 -P ${M1C_BENCH_CHECK})
# A backbone build (--features, dilated at --output-stride 8): run_features timed, per layer.
add_test(NAME bench.s0.features_os8
         COMMAND ${CMAKE_COMMAND} -DM1C=$<TARGET_FILE:m1c>
                 "-DARGS=bench|--variant|s0|--features|stage2,stage4|--output-stride|8|--input-size|128x128|--runs|2|--warmup|1|--threads|1|--per-layer"
                 "-DEXPECT=latency: median [0-9]+[.][0-9]+ ms.*stage4.0.reparam_conv +dw3x3@d4 "
                 -P ${M1C_BENCH_CHECK})
# Bad input: a clear message and exit status 1.
add_test(NAME bench.bad_target
         COMMAND ${CMAKE_COMMAND} -DM1C=$<TARGET_FILE:m1c>
                 "-DARGS=bench|--variant|s0|--target|arm-64-linux" -DEXPECT_STATUS=1
                 "-DEXPECT=give host or a target this CPU runs" -P ${M1C_BENCH_CHECK})
set_tests_properties(bench.s0.smoke bench.s0.per_layer_json bench.s0.features_os8 bench.bad_target
                     PROPERTIES TIMEOUT 300)
# A narrower target than the host's (the AVX2 code on any AVX2 machine, AVX-512 or not).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    add_test(NAME bench.s0.avx2_target
             COMMAND ${CMAKE_COMMAND} -DM1C=$<TARGET_FILE:m1c>
                     "-DARGS=bench|--variant|s0|--runs|2|--warmup|1|--target|x86-64-linux-avx-avx2-f16c-fma-sse41"
                     "-DEXPECT=target x86-64-linux-avx-avx2-f16c-fma-sse41.*latency: median"
                     -P ${M1C_BENCH_CHECK})
    set_tests_properties(bench.s0.avx2_target PROPERTIES TIMEOUT 300)
endif()
