// The pipelines of a library, one per target, and their compilation into one libN.a.
// A library for one target holds one pipeline; a multi-target library (target_list.h) one
// per target, each lowered for its own target (int8: its own activation coding, u8 on
// x86-64, s8 on ARM64; the quantization ranges are in the graph, so every target shares one
// calibration) and scheduled for it (templates, tuned records, or for firmware the
// single-threaded default with its own workspace plan). Halide's compile_multitarget then
// adds the dispatcher that runs, at each call, the first target the CPU supports.
#pragma once
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <Halide.h>
#include <nlohmann/json.hpp>

#include "codegen/codegen.h"
#include "codegen/firmware.h"
#include "codegen/lowered.h"
#include "schedule.h"

namespace m1c::codegen {

struct TargetBuild {
    Halide::Target target;  // as compiled (firmware: OS "noos"; user_context)
    std::unique_ptr<LoweredPipeline> pipeline;
    schedules::ScheduleReport schedule;
    std::optional<FirmwarePlan> firmware;  // firmware builds: the traced, planned workspace
    double trace_seconds = 0;              // firmware: the allocation trace's share
};

// Lowers and schedules `fused` for `target` as `options` say. The schedule's log lines go
// to `log`. Throws m1c::Error (e.g. a workspace of 4 GiB or more).
TargetBuild build_target(const Graph &fused, const InputShape &shape, const CompileOptions &options,
                         const Halide::Target &target, std::ostream &log);

// Every target of `targets` built (the first's schedule logged in full, the others' by
// name). External weights: throws m1c::Error unless every target's blob is the same.
std::vector<TargetBuild> build_targets(const Graph &fused, const InputShape &shape,
                                       const CompileOptions &options,
                                       const std::vector<Halide::Target> &targets, std::ostream &log);

// Compiles the builds into the static library `path` with the pipeline function `fn`: the
// one pipeline, or (several) one per target plus Halide's dispatcher and one runtime.
// Firmware: every module is checked to be free of threads first. Throws Halide::Error.
void compile_builds(const std::vector<TargetBuild> &builds, const std::string &fn,
                    const std::string &path, bool firmware);

// Firmware: the largest workspace of the builds (what N_WORKSPACE_BYTES must be), and its
// index. -1 without firmware plans.
int largest_workspace(const std::vector<TargetBuild> &builds);

// The manifest's "memory" block of a firmware library: memory_plan_json (with blocks) of
// builds[largest], and with several targets "per_target": [{"target", "workspace_bytes",
// "allocations"}], in the library's order.
nlohmann::json firmware_memory_json(const std::vector<TargetBuild> &builds, int largest);

}  // namespace m1c::codegen
