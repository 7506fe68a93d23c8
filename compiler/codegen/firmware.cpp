#include "codegen/firmware.h"

#include "core/error.h"

namespace m1c::codegen {

Halide::Target firmware_target(const Halide::Target &t) {
    using T = Halide::Target;
    if (t.os == T::OSX || t.os == T::IOS)
        throw Error("--firmware: target " + t.to_string() +
                    ": firmware libraries are built for ELF platforms (linux, android, "
                    "bare metal); Apple targets are not supported");
    T f = t;
    f.os = T::NoOS;
    return f;
}

namespace {

class ParallelFinder : public Halide::Internal::IRGraphVisitor {
public:
    std::string found;

private:
    using IRGraphVisitor::visit;
    void visit(const Halide::Internal::For *op) override {
        if (op->for_type == Halide::Internal::ForType::Parallel && found.empty())
            found = "parallel loop " + op->name;
        IRGraphVisitor::visit(op);
    }
    // Halide 14 lowers parallel loops and async tasks into calls of the runtime's task API
    // (closures) before code generation; older IR keeps them as For/Fork nodes.
    void visit(const Halide::Internal::Call *op) override {
        static const char *const kThreading[] = {"halide_do_par_for", "halide_do_parallel_tasks",
                                                 "halide_do_task", "halide_do_loop_task",
                                                 "halide_spawn_thread", "halide_semaphore_"};
        for (const char *name : kThreading)
            if (op->name.rfind(name, 0) == 0 && found.empty()) found = "call of " + op->name;
        IRGraphVisitor::visit(op);
    }
    void visit(const Halide::Internal::Fork *op) override {
        if (found.empty()) found = "async task (fork)";
        IRGraphVisitor::visit(op);
    }
    void visit(const Halide::Internal::Acquire *op) override {
        if (found.empty()) found = "async semaphore";
        IRGraphVisitor::visit(op);
    }
};

}  // namespace

void check_single_threaded(const Halide::Module &module) {
    for (const auto &f : module.functions()) {
        ParallelFinder finder;
        f.body.accept(&finder);
        if (!finder.found.empty())
            throw Error("--firmware: internal error: the schedule left a " + finder.found +
                        " in " + f.name + " (a firmware library must not use threads)");
    }
}

FirmwarePlan plan_firmware(LoweredPipeline &p, const Graph &fused, const Halide::Target &target) {
    FirmwarePlan plan;
    schedules::ScheduleOptions options;
    options.single_threaded = true;
    plan.schedule = schedules::apply_default_schedule(p, target, options);
    plan.trace = trace_allocations(p);
    plan.memory = plan_memory(plan.trace, fused);
    return plan;
}

}  // namespace m1c::codegen
