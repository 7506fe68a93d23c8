// Tuned schedules: the default templates with the knob values of the best matching tuning
// record per op (records written by `m1c tune`).
#pragma once
#include <ostream>
#include <string>

#include "schedule.h"

namespace m1c::schedules {

// Throws m1c::Error naming the file and what is wrong when the records cannot be used.
ScheduleReport apply_tuned_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                    const std::string &records_file, std::ostream &log);

}  // namespace m1c::schedules
