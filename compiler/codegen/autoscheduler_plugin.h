// Finding and loading Halide's autoscheduler plugins (libautoschedule_<name>.so). Debian's
// libhalide14-0-dev installs them in /usr/lib/<multiarch>/halide14/, beside no header or
// CMake hint that m1c could read, so the directory is found at run time.
#pragma once
#include <string>
#include <vector>

namespace m1c::codegen {

// The autoschedulers m1c knows, as Halide registers them ("Adams2019", ...).
const std::vector<std::string> &known_autoschedulers();

// `name` matched case-insensitively against known_autoschedulers(); throws m1c::Error
// listing them when it is none of them.
std::string canonical_autoscheduler_name(const std::string &name);

// The directories searched for the plugins, in order: $M1C_AUTOSCHEDULER_DIR if set; the
// directory of the libHalide this process runs and its halide14/ subdirectory; the
// multiarch and plain library directories (with halide14/).
std::vector<std::string> autoscheduler_plugin_dirs();

// Loads the plugin of `canonical` (once per process) so that Halide knows the name.
// Throws m1c::Error naming every path tried, and the Debian package, when none loads.
void load_autoscheduler_plugin(const std::string &canonical);

}  // namespace m1c::codegen
