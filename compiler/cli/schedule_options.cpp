#include "cli/schedule_options.h"

namespace m1c::cli {

void add_schedule_options(CLI::App *cmd, codegen::ScheduleChoice &choice) {
    auto *records = cmd->add_option(
        "--schedule", choice.records_file,
        "tuned schedule records (JSON from m1c tune): the best record matching this device, "
        "target and op shape per op; the default template elsewhere");
    auto *autos = cmd->add_option("--autoscheduler", choice.autoscheduler,
                                  "schedule with one of Halide's autoschedulers instead: "
                                  "Adams2019, Li2018 or Mullapudi2016 (baselines)");
    records->excludes(autos);
}

}  // namespace m1c::cli
