#include "codegen/target_build.h"

#include <chrono>
#include <sstream>

#include "codegen/schedule_choice.h"
#include "core/error.h"

namespace m1c::codegen {

TargetBuild build_target(const Graph &fused, const InputShape &shape, const CompileOptions &options,
                         const Halide::Target &target, std::ostream &log) {
    TargetBuild b;
    b.target = target;
    b.pipeline = std::make_unique<LoweredPipeline>(
        lower_any(fused, shape, options.external_weights,
                  options.weights_f16 ? WeightsDType::F16 : WeightsDType::F32, target));
    if (!options.firmware) {
        b.schedule = apply_schedule(*b.pipeline, target, options.schedule, log);
        return b;
    }
    const auto t0 = std::chrono::steady_clock::now();
    b.firmware = plan_firmware(*b.pipeline, fused, target);
    b.trace_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    b.schedule = b.firmware->schedule;
    const MemoryPlan &mp = b.firmware->memory;
    if (mp.workspace_bytes >= (int64_t(1) << 32))
        throw Error("--firmware: the workspace would be " + std::to_string(mp.workspace_bytes) +
                    " bytes; at most 4 GiB is supported");
    return b;
}

std::vector<TargetBuild> build_targets(const Graph &fused, const InputShape &shape,
                                       const CompileOptions &options,
                                       const std::vector<Halide::Target> &targets, std::ostream &log) {
    std::vector<TargetBuild> builds;
    for (const Halide::Target &t : targets) {
        std::ostringstream sub_log;
        builds.push_back(build_target(fused, shape, options, t, builds.empty() ? log : sub_log));
        const TargetBuild &b = builds.back();
        if (targets.size() > 1)
            log << "m1c:   " << t.to_string() << ": schedule " << b.schedule.name
                << (b.firmware ? ", workspace " + std::to_string(b.firmware->memory.workspace_bytes) + " bytes"
                               : "")
                << "\n";
        const WeightStore &w0 = builds.front().pipeline->weights, &w = b.pipeline->weights;
        if (options.external_weights && (w.payload() != w0.payload() || w.payload_i8() != w0.payload_i8()))
            throw Error("internal error: the external weights of " + t.to_string() + " differ from " +
                        targets.front().to_string() + "'s; a multi-target library needs one weights file");
    }
    return builds;
}

namespace {

Halide::Module module_of(const TargetBuild &b, const std::string &fn, const Halide::Target &target,
                         bool firmware) {
    const LoweredPipeline &p = *b.pipeline;
    Halide::Module m = Halide::Pipeline(p.outputs()).compile_to_module(p.arguments(), fn, target);
    if (firmware) check_single_threaded(m);
    return m;
}

}  // namespace

void compile_builds(const std::vector<TargetBuild> &builds, const std::string &fn,
                    const std::string &path, bool firmware) {
    if (builds.size() == 1) {
        module_of(builds.front(), fn, builds.front().target, firmware)
            .compile({{Halide::OutputFileType::static_library, path}});
        return;
    }
    // Halide asks for each target's module in turn (with NoRuntime added) and adds the
    // dispatcher `fn` and one runtime for the features all targets share.
    std::vector<Halide::Target> targets;
    for (const TargetBuild &b : builds) targets.push_back(b.target);
    auto module_for = [&](const std::string &sub_fn, const Halide::Target &t) {
        for (const TargetBuild &b : builds)
            if (b.target == t.without_feature(Halide::Target::NoRuntime)) return module_of(b, sub_fn, t, firmware);
        throw Error("internal error: Halide asked for a module for " + t.to_string() + ", not in the list");
    };
    Halide::compile_multitarget(fn, {{Halide::OutputFileType::static_library, path}}, targets, {}, module_for);
}

int largest_workspace(const std::vector<TargetBuild> &builds) {
    int best = -1;
    for (size_t i = 0; i < builds.size(); ++i)
        if (builds[i].firmware &&
            (best < 0 || builds[i].firmware->memory.workspace_bytes >
                             builds[size_t(best)].firmware->memory.workspace_bytes))
            best = int(i);
    return best;
}

nlohmann::json firmware_memory_json(const std::vector<TargetBuild> &builds, int largest) {
    nlohmann::json j = memory_plan_json(builds[size_t(largest)].firmware->memory, /*with_blocks=*/true);
    if (builds.size() == 1) return j;
    j["per_target"] = nlohmann::json::array();
    for (const TargetBuild &b : builds)
        j["per_target"].push_back({{"target", b.target.to_string()},
                                   {"workspace_bytes", b.firmware->memory.workspace_bytes},
                                   {"allocations", b.firmware->memory.blocks.size()}});
    return j;
}

}  // namespace m1c::codegen
