// Runners: where a measurement binary runs. One interface for this machine and for another
// device reached through a command (qemu, ssh, adb, a job submitter...). A runner runs one
// binary per call, and each binary measures a whole batch of candidates (tune/measure.h):
// a cluster dispatcher can implement run() by submitting the binary as a job, and several
// binaries (batches) can be in flight at once from separate threads (run() must then be
// thread-safe, which both runners here are).
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace m1c::tune {

class Runner {
public:
    virtual ~Runner() = default;
    // Runs `binary` with `args`, returns its standard output. Throws m1c::Error (with its
    // exit status and standard error) when it fails.
    virtual std::string run(const std::string &binary, const std::vector<std::string> &args) = 0;
    virtual std::string describe() const = 0;  // "local", or the command template
};

// Runs the binary directly.
std::unique_ptr<Runner> local_runner();

// Runs a command template: `{bin}` is replaced by the binary's path (and the arguments
// follow), or without `{bin}` the path and the arguments are appended:
//   "qemu-aarch64 -L /usr/aarch64-linux-gnu"  ->  qemu-aarch64 -L ... /tmp/x/measure 9
//   "ssh board {bin}"                          ->  ssh board /tmp/x/measure 9
// The binary is built in a local directory: for ssh/adb the command must make it reachable
// on the device (a shared filesystem, or a wrapper script that copies it first, e.g.
// `adb push "$1" /data/local/tmp/m && adb shell /data/local/tmp/m "${@:2}"`).
std::unique_ptr<Runner> command_runner(const std::string &command_template);

// Runs `command` through /bin/sh, returns {exit status, stdout, stderr}.
struct CommandResult {
    int status = -1;
    std::string out, err;
};
CommandResult run_shell(const std::string &command);
std::string shell_quote(const std::string &s);

}  // namespace m1c::tune
