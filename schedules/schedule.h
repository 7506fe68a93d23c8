// Schedules for the lowered pipeline (compiler/codegen/lowered.h). The algorithm never
// holds a scheduling directive: everything about loop order, tiling, vectorisation,
// parallelism and where each Func is computed lives here, chosen per target.
#pragma once
#include <string>
#include <vector>

#include <Halide.h>

#include "codegen/lowered.h"

namespace m1c::schedules {

// What a schedule template needs to know about the target CPU.
struct CpuParams {
    std::string name;          // "x86-avx512", "x86-avx2", "x86-sse", "arm64-neon", "generic"
    int vector_floats = 4;     // float lanes of one vector register
    int vector_registers = 16; // architectural vector registers
    // Registers a broadcast input value takes in a conv's inner loop: 0 where an FMA can
    // broadcast from memory itself (AVX-512 {1toN}), else 1.
    int broadcast_registers = 1;
};

CpuParams cpu_params_for(const Halide::Target &target);

// What was decided, per op, for the manifest and `-v` logs.
struct ScheduleReport {
    std::string name;                // e.g. "default/x86-avx2"
    std::vector<std::string> ops;    // one line per op
};

// The default schedule: every op scheduled by its template (schedules/templates.h).
ScheduleReport apply_default_schedule(codegen::LoweredPipeline &p, const Halide::Target &target);

}  // namespace m1c::schedules
