// Measuring candidates as compiled code: a batch of scheduled pipelines is compiled ahead of
// time for the target (in parallel, --compile-jobs), linked with the C harness
// (tune/harness.h) into one measurement binary (host cc, or aarch64-linux-gnu-gcc for
// ARM64 Linux), in a directory of its own: any runner can run it, several batches can wait
// for runners at once, and a failed run can be repeated on another runner.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <Halide.h>

#include "codegen/lowered.h"

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
    std::string work_dir;  // scratch: a directory per batch, the Halide runtime object
};

struct Measurement {
    bool ok = false;
    double median_ms = 0;
    int runs = 0;
    std::string error;  // why not ok (compile error, Halide error at run time)
};

struct BatchResult {
    std::vector<Measurement> results;  // one per candidate
    std::string device_cpu;            // the CPU model the binary saw (/proc/cpuinfo)
};

// A batch linked into one measurement binary.
struct BuiltBatch {
    std::string dir;                  // its own directory (discard() removes it)
    std::string binary;               // empty: no candidate compiled, nothing to run
    std::vector<std::string> args;    // RUNS THREADS BLOCK
    int runs = 0;
    std::vector<size_t> slots;        // harness slot -> candidate index
    std::vector<std::string> errors;  // per candidate: why it did not compile ("": it did)
};

// The C compiler for `target` on this machine: "cc" for the host's arch,
// aarch64-linux-gnu-gcc for arm-64-linux; throws m1c::Error otherwise (give --cc).
std::string default_cc(const Halide::Target &target);

// Compiles and links `batch` (labels: one per candidate, see harness.h) in
// work_dir/<name>. A candidate that fails to compile is reported in `errors`; a harness
// that cannot be linked throws m1c::Error.
BuiltBatch build_batch(const std::vector<Candidate> &batch, const std::vector<std::string> &labels,
                       const MeasureOptions &options, const std::string &name);
// A binary without candidates: it prints the device's CPU model (a runner's probe).
BuiltBatch build_probe(const MeasureOptions &options);

// The results in the binary's output. Throws m1c::Error when the output is not a complete
// report (garbage, cut short, wrong counts): the run failed, whatever its exit status.
BatchResult read_results(const BuiltBatch &built, const std::string &output);
// The results of a batch that has no binary (every candidate failed to compile).
BatchResult compile_errors(const BuiltBatch &built);

void discard(const BuiltBatch &built);

}  // namespace m1c::tune
