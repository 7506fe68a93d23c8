// plan_memory: liveness from the trace, offsets by greedy-by-size best fit.
#include "codegen/memory_plan.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace m1c::codegen {

namespace {

int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

bool overlap_in_time(const MemoryPlan::Block &a, const MemoryPlan::Block &b) {
    return a.alloc_event < b.free_event && b.alloc_event < a.free_event;
}

}  // namespace

MemoryPlan plan_memory(const AllocationTrace &trace, const Graph &graph) {
    using Block = MemoryPlan::Block;
    MemoryPlan plan;
    const int64_t A = MemoryPlan::kAlignment, G = MemoryPlan::kGuardBytes;
    for (const auto &t : trace.allocations) {
        if (t.bytes < 0 || t.alloc_event >= t.free_event)
            throw Error("memory plan: malformed allocation trace");
        Block b;
        b.bytes = t.bytes;
        b.alloc_event = t.alloc_event;
        b.free_event = t.free_event;
        plan.blocks.push_back(b);
        plan.sum_block_bytes += round_up(t.bytes, A);
    }

    // Lower bound: the most bytes live at one time.
    {
        std::vector<std::pair<int, int64_t>> delta;  // (event, +bytes / -bytes)
        for (const Block &b : plan.blocks) {
            delta.emplace_back(b.alloc_event, round_up(b.bytes, A));
            delta.emplace_back(b.free_event, -round_up(b.bytes, A));
        }
        std::sort(delta.begin(), delta.end());
        int64_t live = 0;
        for (const auto &d : delta) plan.peak_live_bytes = std::max(plan.peak_live_bytes, live += d.second);
    }

    // Greedy by size, best fit among the gaps left by the time-overlapping blocks placed.
    std::vector<size_t> order(plan.blocks.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return plan.blocks[a].bytes > plan.blocks[b].bytes;
    });
    std::vector<size_t> placed;
    int64_t top = G;  // end of the highest block so far
    for (size_t i : order) {
        Block &b = plan.blocks[i];
        const int64_t need = round_up(std::max<int64_t>(b.bytes, 1), A);
        std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of conflicting blocks
        for (size_t j : placed)
            if (overlap_in_time(b, plan.blocks[j]))
                busy.emplace_back(plan.blocks[j].offset,
                                  plan.blocks[j].offset + round_up(std::max<int64_t>(plan.blocks[j].bytes, 1), A));
        std::sort(busy.begin(), busy.end());
        int64_t best = -1, best_gap = 0, cursor = G;
        for (const auto &[begin, end] : busy) {
            const int64_t gap = begin - cursor;
            if (gap >= need && (best < 0 || gap < best_gap)) {
                best = cursor;
                best_gap = gap;
            }
            cursor = std::max(cursor, end);
        }
        b.offset = best >= 0 ? best : cursor;  // a gap, else above every conflicting block
        top = std::max(top, b.offset + need);
        placed.push_back(i);
    }
    plan.workspace_bytes = plan.blocks.empty() ? 0 : top + G;

    // Check: no two blocks live at once share a byte; all inside the workspace.
    for (size_t i = 0; i < plan.blocks.size(); ++i) {
        const Block &a = plan.blocks[i];
        if (a.offset < G || a.offset % A || a.offset + a.bytes + G > plan.workspace_bytes)
            throw Error("memory plan: internal error (block outside the workspace)");
        for (size_t j = i + 1; j < plan.blocks.size(); ++j) {
            const Block &b = plan.blocks[j];
            if (overlap_in_time(a, b) && a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes)
                throw Error("memory plan: internal error (live blocks overlap)");
        }
    }

    for (const Op &op : graph.ops) {
        const Value &v = graph.values.at(op.output);
        plan.naive_activation_bytes += int64_t(v.n) * v.c * v.h * v.w * 4;
    }
    return plan;
}

nlohmann::json memory_plan_json(const MemoryPlan &plan, bool with_blocks) {
    nlohmann::json j = {{"workspace_bytes", plan.workspace_bytes},
                        {"naive_activation_bytes", plan.naive_activation_bytes},
                        {"peak_live_bytes", plan.peak_live_bytes},
                        {"sum_block_bytes", plan.sum_block_bytes},
                        {"allocations", plan.blocks.size()},
                        {"alignment", MemoryPlan::kAlignment},
                        {"guard_bytes", MemoryPlan::kGuardBytes}};
    if (with_blocks) {
        nlohmann::json blocks = nlohmann::json::array();
        for (const auto &b : plan.blocks)
            blocks.push_back({{"bytes", b.bytes}, {"offset", b.offset},
                              {"live_events", {b.alloc_event, b.free_event}}});
        j["blocks"] = blocks;
    }
    return j;
}

}  // namespace m1c::codegen
