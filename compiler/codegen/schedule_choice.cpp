#include "codegen/schedule_choice.h"

#include "codegen/autoscheduler.h"
#include "core/error.h"
#include "tuned_schedule.h"

namespace m1c::codegen {

schedules::ScheduleReport apply_schedule(LoweredPipeline &p, const Halide::Target &target,
                                         const ScheduleChoice &choice, std::ostream &log) {
    if (!choice.records_file.empty() && !choice.autoscheduler.empty())
        throw Error("--schedule and --autoscheduler exclude each other: give one");
    if (!choice.autoscheduler.empty() && !p.features.empty())
        throw Error("--autoscheduler: not available for backbone builds (--features); use the "
                    "default schedule or --schedule");
    if (!choice.autoscheduler.empty()) return apply_autoscheduler(p, target, choice.autoscheduler, log);
    if (!choice.records_file.empty())
        return schedules::apply_tuned_schedule(p, target, choice.records_file, log, choice.threads);
    return schedules::apply_default_schedule(p, target);
}

}  // namespace m1c::codegen
