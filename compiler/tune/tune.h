// `m1c tune`: per tuning unit (schedules/search_space.h), an evolutionary search seeded with
// the default configuration, every candidate measured as compiled code by a pool of
// runners (one device each, or a cluster engine such as Slurm), up to --jobs batches in
// flight while the next ones compile; units with equal shape keys share their measurements.
// Records go to --out after every batch (re-running continues: measured configurations are
// not measured again). Runners that fail are retried around and dropped (tune/runner_pool.h).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c::tune {

struct TuneOptions {
    std::string target = "host";
    std::vector<std::string> runners;  // empty: this machine; else command templates (runner.h)
    int slots = 1;             // batches each runner measures at once (1: one device each)
    int jobs = 0;              // batches in flight (0: 1 here, 2 x runners x slots); the search's lag
    double timeout = 600;      // seconds one measurement binary may run (0: no limit)
    int max_failures = 3;      // failed runs in a row before a runner is dropped
    std::string out;           // records file (read first if it exists)
    std::string cc;            // empty: default_cc(target)
    int trials = 0;            // new measurements at most (0: no limit)
    double seconds = 0;        // wall-clock budget (0: no limit); one of the two is needed
    int compile_jobs = 1;      // candidates compiled at once
    int batch = 24;            // candidates per measurement binary
    int runs = 9;              // timed runs per candidate
    int threads = 1;           // Halide threads while measuring (as `m1c bench --threads`)
    std::vector<std::string> ops;  // only units whose op names are listed (or under a listed prefix)
    bool final_check = true;   // measure the whole model, default vs tuned, at the end
    unsigned seed = 1;
    std::string work_dir;      // scratch goes to a new directory in it (empty: in /tmp)
};

// Parses "10m", "90s", "1h30m", "45" (seconds); throws m1c::Error on anything else.
double parse_duration(const std::string &text);

void run_tune(const Graph &fused, const InputShape &shape, const TuneOptions &options,
              std::ostream &log);

}  // namespace m1c::tune
