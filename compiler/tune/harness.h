// The C harness of a measurement binary and the protocol of its output. The binary is run
// by a runner, maybe far away, through commands that can fail in any way: its output is
// checked line by line before any time in it is believed.
//
//   measure RUNS THREADS BLOCK   measures every candidate (RUNS timed runs after a warm-up,
//                                interleaved, THREADS Halide threads, BLOCK back-to-back runs
//                                per visit) and prints
//                                  cpu <TAB> model            (/proc/cpuinfo)
//                                  cand <TAB> slot <TAB> median ms <TAB> runs   per candidate,
//                                  fail <TAB> slot <TAB> Halide error code      or this
//                                  end <TAB> number of candidates
//   measure --list               prints `label <TAB> slot <TAB> label` per candidate and the
//                                end line (what each slot is: the op and knobs as JSON; a
//                                test runner replays recorded times by label)
// A binary without candidates only prints its CPU: the probe of a runner.
#pragma once
#include <string>
#include <vector>

namespace m1c::tune {

struct HarnessEntry {
    std::string symbol;  // extern int symbol(halide_buffer_t *in, halide_buffer_t *out)
    int n = 1, h = 0, w = 0, k = 0;  // input N x 3 x H x W, output N x K
    std::string label;
};

std::string harness_source(const std::vector<HarnessEntry> &entries);

struct HarnessResult {
    bool ok = false;     // measured; else the candidate returned a Halide error
    double median_ms = 0;
    int runs = 0;
    int error_code = 0;
};

struct HarnessOutput {
    std::string cpu;
    std::vector<HarnessResult> slots;
};

// Throws m1c::Error saying what is wrong unless `output` is a complete report of `slots`
// candidates measured `runs` times each (lines of other programs are ignored: a wrapper
// may print its own).
HarnessOutput parse_harness_output(const std::string &output, size_t slots, int runs);

}  // namespace m1c::tune
