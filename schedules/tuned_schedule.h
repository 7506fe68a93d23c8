// Tuned schedules: the default templates with the knob values of the best matching tuning
// record per op (records written by `m1c tune`).
#pragma once
#include <ostream>
#include <string>

#include "schedule.h"

namespace m1c::schedules {

// `threads`: the thread count the code is built for (0: all cores). Per op, records measured
// with that count are preferred; an op that has none takes the records of the nearest count
// (and the log says so). Throws m1c::Error naming the file and what is wrong when the
// records cannot be used.
ScheduleReport apply_tuned_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                    const std::string &records_file, std::ostream &log,
                                    int threads = 1);

}  // namespace m1c::schedules
