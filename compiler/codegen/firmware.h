// Firmware builds (m1c compile --firmware): what differs from an ordinary library before
// the header is written.
//   - Target: the requested CPU with Halide's OS "noos": its runtime has no thread pool
//     (halide_do_par_for runs serially, nothing references pthread_create), no default
//     allocator and no error printer -- N.h defines halide_malloc / halide_free /
//     halide_error / halide_print (c_header.cpp).
//   - Schedule: the default one, single-threaded (schedules/schedule.h).
//   - Memory: every heap allocation planned into one workspace (memory_plan.h).
#pragma once
#include <string>

#include <Halide.h>

#include "codegen/allocation_trace.h"
#include "codegen/lowered.h"
#include "codegen/memory_plan.h"
#include "ir/graph.h"
#include "schedule.h"

namespace m1c::codegen {

// `t` (a parsed, supported target) for a firmware build. Throws m1c::Error for Apple
// targets (Halide's noos runtime is ELF; firmware means Linux/Android/bare-metal here).
Halide::Target firmware_target(const Halide::Target &t);

// Throws m1c::Error unless the lowered module is free of parallel loops and async tasks
// (the proof that the library never asks for a thread).
void check_single_threaded(const Halide::Module &module);

// Schedules `p` single-threaded for `target` (a firmware target), traces its allocations on
// the host and plans the workspace.
struct FirmwarePlan {
    schedules::ScheduleReport schedule;
    AllocationTrace trace;
    MemoryPlan memory;
};
FirmwarePlan plan_firmware(LoweredPipeline &p, const Graph &fused, const Halide::Target &target);

}  // namespace m1c::codegen
