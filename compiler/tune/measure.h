// Measuring candidates as compiled code: a batch of scheduled pipelines is compiled ahead of
// time for the target (in parallel, --jobs), linked with a small C harness into one
// measurement binary (host cc, or aarch64-linux-gnu-gcc for ARM64 Linux), and run by a
// Runner. The harness runs every candidate in interleaved rounds (machine noise hits all
// alike) and prints each one's median time.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <Halide.h>

#include "codegen/lowered.h"
#include "tune/runner.h"

namespace m1c::tune {

// Builds one candidate: lowered and scheduled. Called on a worker thread.
using Candidate = std::function<codegen::LoweredPipeline()>;

struct MeasureOptions {
    Halide::Target target;
    std::string cc;        // C compiler that links for the target (default_cc)
    int runs = 9;          // timed runs per candidate (after one warm-up round)
    int threads = 1;       // Halide threads while measuring (0: all cores)
    int block = 1;         // consecutive timed runs per visit (1: fully interleaved)
    int jobs = 1;          // candidates compiled at once
    std::string work_dir;  // scratch (objects, harness, binary)
};

struct Measurement {
    bool ok = false;
    double median_ms = 0;
    int runs = 0;
    std::string error;  // why not ok (compile error, run error)
};

struct BatchResult {
    std::vector<Measurement> results;  // one per candidate
    std::string device_cpu;            // the CPU model the binary saw (/proc/cpuinfo)
};

// The C compiler for `target` on this machine: "cc" for the host's arch,
// aarch64-linux-gnu-gcc for arm-64-linux; throws m1c::Error otherwise (give --cc).
std::string default_cc(const Halide::Target &target);

// Compiles, links and runs the batch. A candidate that fails to compile or run is reported
// in its Measurement; a harness that cannot be linked or run throws m1c::Error.
BatchResult measure_batch(const std::vector<Candidate> &batch, const MeasureOptions &options,
                          Runner &runner);

}  // namespace m1c::tune
