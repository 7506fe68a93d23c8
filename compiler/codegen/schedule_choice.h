// Which schedule a lowered pipeline gets: the default templates (schedules/), tuned records
// (`--schedule FILE`, written by `m1c tune`), or one of Halide's autoschedulers
// (`--autoscheduler NAME`, the baselines the tuner is compared with). One entry point, used
// by compile_library and HostPipeline alike, so that `m1c compile`, `m1c run` and
// `m1c bench` always run the same code for the same choice.
#pragma once
#include <ostream>
#include <string>

#include <Halide.h>

#include "codegen/lowered.h"
#include "schedule.h"

namespace m1c::codegen {

struct ScheduleChoice {
    std::string records_file;   // tuned schedule records (JSON); empty: default templates
    std::string autoscheduler;  // Adams2019, Li2018 or Mullapudi2016; empty: none
    // The thread count the code is built for (0: all cores): records measured with it are
    // preferred (m1c tune --threads).
    int threads = 1;
    bool is_default() const { return records_file.empty() && autoscheduler.empty(); }
};

// Schedules `p` for `target` as `choice` says; progress and fallbacks go to `log`.
// Throws m1c::Error on a bad choice (both given, unknown autoscheduler, unreadable records).
schedules::ScheduleReport apply_schedule(LoweredPipeline &p, const Halide::Target &target,
                                         const ScheduleChoice &choice, std::ostream &log);

}  // namespace m1c::codegen
