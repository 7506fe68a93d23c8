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
    // Registers a broadcast input value takes in a conv's inner loop. 1 on every target:
    // even with AVX-512's {1toN} memory broadcasts, LLVM 14 broadcasts each input value
    // once into a register and reuses it across the tile's channel vectors.
    int broadcast_registers = 1;
    // ---- firmware (m1c compile --firmware) -------------------------------------------
    // No thread pool: every loop a template would run in parallel runs serially instead.
    // Templates apply parallelism only through parallel_loop() below; apply_default_schedule
    // additionally turns any parallel loop left over into a serial one
    // (serialize_parallel_loops) and compile_library rejects a firmware pipeline whose
    // lowered code still holds a parallel loop.
    bool single_threaded = false;
};

CpuParams cpu_params_for(const Halide::Target &target);

// The one place a template makes a loop parallel: f.parallel(v), unless cp.single_threaded.
void parallel_loop(Halide::Func f, const Halide::VarOrRVar &v, const CpuParams &cp);

// Every loop of every Func the pipeline output depends on (wrappers and update stages
// included) marked parallel becomes serial. Returns how many were changed.
int serialize_parallel_loops(const Halide::Func &output);

// Options of the default schedule beyond the target.
struct ScheduleOptions {
    bool single_threaded = false;  // firmware: no thread pool (see CpuParams)
    // Every op's output at root (no depthwise op computed inside its consumer), so that each
    // can also be a pipeline output: the probe pipelines of calibration and `m1c eval`.
    bool outputs_at_root = false;
};

// What was decided, per op, for the manifest and `-v` logs.
struct ScheduleReport {
    std::string name;                // e.g. "default/x86-avx2"
    std::vector<std::string> ops;    // one line per op
};

// The default schedule: every op scheduled by its template (schedules/templates.h).
ScheduleReport apply_default_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                      const ScheduleOptions &options = {});

}  // namespace m1c::schedules
