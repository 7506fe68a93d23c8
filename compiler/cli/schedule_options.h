// --schedule FILE / --autoscheduler NAME: how compile, run and bench schedule the pipeline.
#pragma once
#include <CLI/CLI.hpp>

#include "codegen/schedule_choice.h"

namespace m1c::cli {

void add_schedule_options(CLI::App *cmd, codegen::ScheduleChoice &choice);

}  // namespace m1c::cli
