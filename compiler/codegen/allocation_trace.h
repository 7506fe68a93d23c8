// The heap allocations a scheduled pipeline makes, in order: recorded by JIT-running it on
// the host with a tracing allocator. Halide's allocation sizes follow from the schedule's
// bounds alone (all extents are constant here), not from the data or the CPU, so the
// schedule made for any target (e.g. ARM64) can be traced on the host; the generated
// library checks at run time that every request matches (c_header.cpp, firmware mode).
#pragma once
#include <cstdint>
#include <vector>

#include <Halide.h>

#include "codegen/lowered.h"

namespace m1c::codegen {

// One halide_malloc of the run: its size and when it was live, as indices into the
// sequence of malloc/free calls (alloc_event < free_event).
struct TracedAllocation {
    int64_t bytes = 0;
    int alloc_event = 0, free_event = 0;
};

struct AllocationTrace {
    std::vector<TracedAllocation> allocations;  // in halide_malloc order
    int events = 0;                             // malloc + free calls
};

// JIT-compiles the scheduled pipeline `p` for the host, runs it once on zeros and records
// every halide_malloc / halide_free. Throws m1c::Error if a block is freed twice or never,
// or the pipeline fails.
AllocationTrace trace_allocations(LoweredPipeline &p);

}  // namespace m1c::codegen
