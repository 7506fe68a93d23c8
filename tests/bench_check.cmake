# Runs ${M1C} ${ARGS} (arguments separated by "|"); fails unless it exits with ${EXPECT_STATUS} (default 0) and its output
# (stdout and stderr) matches the regular expression ${EXPECT}.
if(NOT DEFINED EXPECT_STATUS)
  set(EXPECT_STATUS 0)
endif()
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${M1C} ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${status}" STREQUAL "${EXPECT_STATUS}")
  message(FATAL_ERROR "m1c exited with ${status}, expected ${EXPECT_STATUS}")
endif()
string(REGEX REPLACE "\n" " " flat "${out}${err}")
if(NOT flat MATCHES "${EXPECT}")
  message(FATAL_ERROR "output does not match: ${EXPECT}")
endif()
