// m1c tune: search per-op schedule knobs for a device by measuring compiled code on it;
// writes tuning records for `m1c compile/bench --schedule FILE`. See compiler/tune/tune.h.
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/model_options.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "frontend/random_weights.h"
#include "frontend/weight_check.h"
#include "passes/pipeline.h"
#include "tune/tune.h"

namespace m1c::cli {
namespace {

struct TuneCmdOptions {
    ModelOptions model;
    tune::TuneOptions tune;
    std::string time, ops, timeout = "10m";
    bool no_check = false;
};

void run(TuneCmdOptions o) {
    if (!o.time.empty()) o.tune.seconds = tune::parse_duration(o.time);
    o.tune.timeout = o.timeout == "0" ? 0 : tune::parse_duration(o.timeout);
    o.tune.final_check = !o.no_check;
    std::istringstream ops(o.ops);
    for (std::string op; std::getline(ops, op, ',');)
        if (!op.empty()) o.tune.ops.push_back(op);
    codegen::parse_target(o.tune.target);  // a bad target fails before anything else
    const InputShape shape = o.model.input_shape();
    LoadedModel model;
    if (o.model.weights.empty()) {
        if (o.model.variant.empty() && o.model.spec.empty())
            throw Error("give --variant or --spec (and optionally --weights)");
        model.spec = o.model.spec_only();
        model.format = WeightFormat::Fused;
        model.weights = random_fused_weights(model.spec);
    } else {
        model = load_model(o.model.request(), std::cerr);
        require_head(model);
    }
    Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    tune::run_tune(fused, shape, o.tune, std::cerr);
}

void setup(CLI::App &app) {
    auto o = std::make_shared<TuneCmdOptions>();
    o->tune.compile_jobs = int(std::max(1u, std::thread::hardware_concurrency()));
    CLI::App *cmd = app.add_subcommand(
        "tune", "find the fastest schedule knobs per op for a device; writes tuning records for "
                "compile/bench --schedule");
    add_model_options(cmd, o->model, /*weights_required=*/false);
    add_input_shape_options(cmd, o->model);
    cmd->add_option("--target,-t", o->tune.target,
                    std::string("Halide target string or host, e.g. ") + codegen::target_examples())
        ->capture_default_str();
    cmd->add_option("--out,-o", o->tune.out,
                    "records file (JSON); an existing one is continued (measured configs are skipped)")
        ->required();
    cmd->add_option("--runner", o->tune.runners,
                    "command that runs a measurement binary on a device, e.g. "
                    "\"qemu-aarch64 -L /usr/aarch64-linux-gnu\", \"ssh board {bin}\" or "
                    "\"srun --nodes=1 --ntasks=1 --exclusive {bin}\"; repeat it for a pool of "
                    "devices (default: run it here)")
        ->allow_extra_args(false);
    cmd->add_option("--jobs,-j", o->tune.jobs,
                    "batches in flight: measured on free runners while the next ones compile "
                    "(default: 1 without --runner, else 2 x runners x slots); the search proposes batch n "
                    "from batches up to n - jobs");
    cmd->add_option("--slots", o->tune.slots,
                    "batches each runner measures at once (1: a runner is one device; a Slurm "
                    "template stands for many)")
        ->capture_default_str();
    cmd->add_option("--timeout", o->timeout,
                    "longest run of one measurement binary before it is killed and its batch "
                    "retried on another runner (0: none)")
        ->capture_default_str();
    cmd->add_option("--max-failures", o->tune.max_failures,
                    "failed runs in a row before a runner is dropped")
        ->capture_default_str();
    cmd->add_option("--work-dir", o->tune.work_dir,
                    "where measurement binaries are built (default /tmp); runners must reach it, "
                    "e.g. a filesystem the cluster's nodes share");
    cmd->add_option("--cc", o->tune.cc, "C compiler that links for the target (default: cc, or "
                                        "aarch64-linux-gnu-gcc for arm-64-linux)");
    cmd->add_option("--trials", o->tune.trials, "measure at most N new configurations");
    cmd->add_option("--time", o->time, "time budget, e.g. 10m, 90s, 1h");
    cmd->add_option("--compile-jobs", o->tune.compile_jobs, "candidates compiled at once (default: all cores)");
    cmd->add_option("--batch-size", o->tune.batch, "candidates per measurement binary (one batch)")->capture_default_str();
    cmd->add_option("--runs", o->tune.runs, "timed runs per candidate (median)")->capture_default_str();
    cmd->add_option("--threads", o->tune.threads,
                    "Halide threads while measuring (as m1c bench --threads; 0: all cores)")
        ->capture_default_str();
    cmd->add_option("--ops", o->ops, "only these ops (comma-separated names or prefixes, e.g. "
                                     "stage0,stage2.1)");
    cmd->add_option("--seed", o->tune.seed, "random seed of the search")->capture_default_str();
    cmd->add_flag("--no-check", o->no_check, "skip the final whole-model default vs tuned measurement");
    cmd->callback([o] { run(*o); });
}

CommandRegistration registration(45, setup);

}  // namespace
}  // namespace m1c::cli
