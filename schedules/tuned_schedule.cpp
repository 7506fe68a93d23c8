#include "tuned_schedule.h"

#include "core/error.h"

namespace m1c::schedules {

ScheduleReport apply_tuned_schedule(codegen::LoweredPipeline &, const Halide::Target &,
                                    const std::string &records_file, std::ostream &) {
    throw Error("--schedule " + records_file + ": tuned schedules are not implemented yet");
}

}  // namespace m1c::schedules
