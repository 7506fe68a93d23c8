# The undefined symbols of a firmware library (libN.a): run as
#   cmake -DNM=<nm for the target> -DLIBRARY=<libN.a> -P firmware_symbols.cmake
# Passes when every one is on the list below -- the C library's string, stdio and heap
# functions that Halide's runtime names on paths N_run_in never takes, libm, and the four
# Halide hooks N.h defines -- so no pthread_*, dl*, sched_*, C++ runtime (_Z*, __cxa_*,
# __gxx_*, _Unwind_*) or other surprise. Prints the list.
if(NOT NM OR NOT LIBRARY)
  message(FATAL_ERROR "usage: cmake -DNM=nm -DLIBRARY=libN.a -P firmware_symbols.cmake")
endif()
# The symbol names `nm <flag> LIBRARY` lists, each line matching `pattern` (name in group 1).
function(nm_names flag pattern out)
  execute_process(COMMAND ${NM} ${flag} ${LIBRARY} OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${flag} ${LIBRARY} failed: ${err}")
  endif()
  string(REPLACE "\n" ";" lines "${text}")
  set(found)
  foreach(line IN LISTS lines)
    if(line MATCHES "${pattern}")
      list(APPEND found ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
nm_names(-u "^[ \t]*U[ \t]+([^ \t]+)$" names)
# A multi-target library holds several objects (a pipeline per target, the dispatcher, the
# runtime): what one object names and another defines is not undefined in the library.
nm_names(--defined-only "^[0-9a-fA-F]+[ \t]+[A-Za-z][ \t]+([^ \t]+)$" defined)
list(REMOVE_DUPLICATES names)
if(defined)
  list(REMOVE_ITEM names ${defined})
endif()
list(SORT names)
set(allowed
  halide_malloc halide_free halide_error halide_print           # defined by N.h
  memcpy memset memcmp strlen abort                             # freestanding-ish C
  malloc free getenv atoi fopen fclose fileno fwrite write)     # unused runtime paths
set(bad)
foreach(name IN LISTS names)
  list(FIND allowed ${name} i)
  # libm: what Halide's math lowering calls on some targets (e.g. floorf without SSE4.1)
  if(i LESS 0 AND NOT name MATCHES "^(floor|ceil|round|trunc|exp|log|pow|sqrt|sin|cos|tan|fmod)f?$")
    list(APPEND bad ${name})
  endif()
endforeach()
string(REPLACE ";" " " shown "${names}")
message(STATUS "undefined in ${LIBRARY}: ${shown}")
if(bad)
  string(REPLACE ";" " " bad "${bad}")
  message(FATAL_ERROR "unexpected undefined symbols: ${bad}")
endif()
