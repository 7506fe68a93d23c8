// Memory planning for firmware builds: every heap allocation of the pipeline (in the order
// Halide makes them, see allocation_trace.h) gets a fixed offset in one workspace, chosen
// at compile time from the blocks' lifetimes so that blocks never live at the same time
// share memory.
//
// Placement is greedy by size with best fit (as TFLite's arena planner): largest block
// first, each at the smallest gap, between blocks already placed that are live at the same
// time, that holds it, else above them. Offsets and sizes are multiples of kAlignment, and
// the workspace has kGuardBytes before the first and after the last block (Halide may read,
// never write, a few bytes beyond a buffer). The generated allocator serves the k-th
// halide_malloc call from offset k and fails (never returns memory outside the workspace)
// if the size asked for differs from the plan.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/allocation_trace.h"
#include "ir/graph.h"

namespace m1c::codegen {

struct MemoryPlan {
    static constexpr int64_t kAlignment = 64;   // workspace and block alignment, bytes
    static constexpr int64_t kGuardBytes = 64;  // before the first block, after the last

    struct Block {
        int64_t bytes = 0;   // as Halide asks for it
        int64_t offset = 0;  // from the start of the workspace
        int alloc_event = 0, free_event = 0;
    };
    std::vector<Block> blocks;  // in halide_malloc order

    int64_t workspace_bytes = 0;     // what N_WORKSPACE_BYTES says: the end of the highest block + guard
    int64_t peak_live_bytes = 0;     // max over time of the bytes live at once (a lower bound)
    int64_t sum_block_bytes = 0;     // every block at its own offset (no reuse)
    int64_t naive_activation_bytes = 0;  // every activation tensor of the graph held whole
};

// Plans offsets for `trace`. `graph` gives the naive figure: the sum of the output tensors
// of every op (float32), as a framework that keeps each activation would need.
MemoryPlan plan_memory(const AllocationTrace &trace, const Graph &graph);

// {"workspace_bytes", "naive_activation_bytes", "peak_live_bytes", "sum_block_bytes",
//  "allocations", "alignment", "guard_bytes"} (+ "blocks" when `with_blocks`).
nlohmann::json memory_plan_json(const MemoryPlan &plan, bool with_blocks);

}  // namespace m1c::codegen
