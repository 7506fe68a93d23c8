// The JIT's copy of Halide's runtime (shared by every JIT-compiled pipeline of the process):
// its functions are reached through the shared runtime's exports.
#pragma once
#include <Halide.h>

namespace m1c::codegen {

void *jit_runtime_symbol(const Halide::Target &target, const char *name);

// halide_set_num_threads of the JIT runtime (0: all cores). Applied before every run, as
// N_run does: the thread pool is one per process.
void jit_set_num_threads(const Halide::Target &target, int n);

}  // namespace m1c::codegen
