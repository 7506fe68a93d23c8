// Subcommands register themselves: each cmd_<name>.cpp defines one CommandRegistration, so
// adding a command never touches main.cpp. A command's callback reports bad input by
// throwing m1c::Error; main prints it and exits with status 1.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace m1c::cli {

using CommandSetup = std::function<void(CLI::App &app)>;

struct CommandRegistration {
    CommandRegistration(int order, CommandSetup setup);
};

// Sorted by `order` (the order `m1c --help` lists them in).
std::vector<CommandSetup> registered_commands();

}  // namespace m1c::cli
