// Parallelism switch for firmware builds (CpuParams::single_threaded): the helper templates
// use to make a loop parallel, and the pass that makes every parallel loop serial.
#include <map>
#include <string>

#include "schedule.h"

namespace m1c::schedules {

void parallel_loop(Halide::Func f, const Halide::VarOrRVar &v, const CpuParams &cp) {
    if (!cp.single_threaded) f.parallel(v);
}

namespace {

using Halide::Internal::Function;

// Every Function `output` depends on, with the wrappers (f.in()) each one has: wrappers
// are substituted for the calls only at lowering, so a walk of the calls misses them.
void collect(const Function &f, std::map<std::string, Function> &all) {
    if (!all.emplace(f.name(), f).second) return;
    for (const auto &[name, callee] : Halide::Internal::find_direct_calls(f)) collect(callee, all);
    for (const auto &[name, wrapper] : f.schedule().wrappers()) collect(Function(wrapper), all);
}

int serialize(Halide::Internal::StageSchedule schedule) {
    int changed = 0;
    for (auto &dim : schedule.dims())
        if (dim.for_type == Halide::Internal::ForType::Parallel) {
            dim.for_type = Halide::Internal::ForType::Serial;
            ++changed;
        }
    return changed;
}

}  // namespace

int serialize_parallel_loops(const Halide::Func &output) {
    std::map<std::string, Function> all;
    collect(output.function(), all);
    int changed = 0;
    for (auto &[name, f] : all) {
        Function fn = f;
        changed += serialize(fn.definition().schedule());
        for (auto &update : fn.updates()) changed += serialize(update.schedule());
    }
    return changed;
}

}  // namespace m1c::schedules
