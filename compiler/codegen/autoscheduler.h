// Halide's autoschedulers (Adams2019, Li2018, Mullapudi2016, plugins shipped with Debian's
// Halide 14) as baselines for the hand-written and tuned schedules.
#pragma once
#include <ostream>
#include <string>

#include <Halide.h>

#include "codegen/lowered.h"
#include "schedule.h"

namespace m1c::codegen {

// Schedules `p` with the named autoscheduler. Throws m1c::Error naming the known ones when
// `name` is not one of them, or when its plugin cannot be loaded.
schedules::ScheduleReport apply_autoscheduler(LoweredPipeline &p, const Halide::Target &target,
                                              const std::string &name, std::ostream &log);

}  // namespace m1c::codegen
