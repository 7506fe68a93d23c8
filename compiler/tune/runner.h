// Runners: where a measurement binary runs. One interface for this machine and for another
// device reached through a command (qemu, ssh, adb, srun...). A runner runs one binary per
// call, and each binary measures a whole batch of candidates (tune/measure.h). Several
// binaries may be in flight at once from separate threads (tune/runner_pool.h): run() is
// thread-safe.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace m1c::tune {

class Runner {
public:
    virtual ~Runner() = default;
    // Runs `binary` with `args`, returns its standard output. Throws m1c::Error (with its
    // exit status or signal and the tail of its standard error) when it fails, when it runs
    // longer than `timeout_s` (0: no limit; the command and everything it started are
    // killed) or when `cancel` becomes true.
    virtual std::string run(const std::string &binary, const std::vector<std::string> &args,
                            double timeout_s = 0, const std::atomic<bool> *cancel = nullptr) = 0;
    virtual std::string describe() const = 0;  // "local", or the command template in quotes
    virtual bool local() const = 0;            // measures on this machine
};

// Runs the binary directly.
std::unique_ptr<Runner> local_runner();

// Runs a command template: `{bin}` is replaced by the binary's path (and the arguments
// follow), or without `{bin}` the path and the arguments are appended:
//   "qemu-aarch64 -L /usr/aarch64-linux-gnu"           ->  qemu-aarch64 -L ... /tmp/x/measure 9
//   "ssh board {bin}"                                   ->  ssh board /tmp/x/measure 9
//   "srun --nodes=1 --ntasks=1 --exclusive {bin}"      ->  a Slurm job step on a free node
// The binary is built in a local directory: for ssh/adb the command must make it reachable
// on the device (a shared filesystem, or a wrapper script that copies it first, e.g.
// `adb push "$1" /data/local/tmp/m && adb shell /data/local/tmp/m "${@:2}"`).
std::unique_ptr<Runner> command_runner(const std::string &command_template);

// Runs `command` through /bin/sh in its own process group and returns {exit status (128 +
// signal number when killed by a signal), stdout, stderr, why it was stopped}. With a
// timeout (seconds, 0: none) or a cancel flag, the whole process group is killed (SIGTERM,
// then SIGKILL) when it expires or the flag is set; the same happens when stdout or stderr
// exceeds `max_output` bytes. If m1c itself receives SIGINT, SIGTERM or SIGHUP, the running
// commands' process groups get SIGTERM first.
struct CommandResult {
    int status = -1;
    std::string out, err;
    std::string stopped;  // "" (ran to its end), or why it was killed
};
CommandResult run_shell(const std::string &command, double timeout_s = 0,
                        const std::atomic<bool> *cancel = nullptr,
                        size_t max_output = size_t(64) << 20);
std::string shell_quote(const std::string &s);

}  // namespace m1c::tune
