#include "codegen/autoscheduler.h"

#include "core/error.h"

namespace m1c::codegen {

schedules::ScheduleReport apply_autoscheduler(LoweredPipeline &, const Halide::Target &,
                                              const std::string &name, std::ostream &) {
    throw Error("--autoscheduler " + name + ": not implemented yet");
}

}  // namespace m1c::codegen
