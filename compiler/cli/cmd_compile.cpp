// m1c compile: checkpoint -> folded graph -> Halide -> libN.a + N.h + N.json (+ N.weights).
#include <iostream>

#include "cli/command.h"
#include "cli/feature_options.h"
#include "cli/model_options.h"
#include "cli/precision_options.h"
#include "cli/schedule_options.h"
#include "codegen/c_header.h"
#include "codegen/codegen.h"
#include "codegen/target_list.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "passes/pipeline.h"

namespace m1c::cli {
namespace {

struct CompileCmdOptions {
    ModelOptions model;
    std::string target = "host", name, out_dir, weights_mode = "embedded";
    std::string weights_dtype = "f32";
    bool firmware = false;
    codegen::ScheduleChoice schedule;
    PrecisionOptions precision;
    FeatureOptions features;
};

void run(const CompileCmdOptions &o) {
    CompileOptions options;
    options.target = o.target;
    options.name = o.name;
    options.out_dir = o.out_dir;
    if (o.weights_mode != "embedded" && o.weights_mode != "external")
        throw Error("--weights-mode " + o.weights_mode + ": expected embedded or external");
    options.external_weights = (o.weights_mode == "external");
    options.firmware = o.firmware;
    options.schedule = o.schedule;
    if (o.weights_dtype != "f32" && o.weights_dtype != "f16")
        throw Error("--weights-dtype " + o.weights_dtype + ": expected f32 or f16");
    options.weights_f16 = (o.weights_dtype == "f16");
    if (options.weights_f16 && options.external_weights)
        throw Error("--weights-dtype f16 needs --weights-mode embedded");
    // Fail on a bad target or name before loading anything.
    codegen::parse_target_list(options.target, /*int8=*/false);
    if (!codegen::valid_library_name(options.name))
        throw Error("--name \"" + options.name + "\": the library name must be a C identifier");
    const InputShape shape = o.model.input_shape();
    if (o.features.backbone()) parse_features(o.features.list);  // a bad list before loading
    LoadedModel model = load_model(o.model.request(), std::cerr);
    Graph graph = build_graph(model.spec, model.format, model.weights, shape);
    Graph fused = fold_and_fuse(std::move(graph));
    apply_features(o.features, model, fused);
    options.precision = apply_precision(o.precision, model, shape, o.features, fused, std::cerr);
    compile_library(model, fused, shape, options, std::cerr);
}

void setup(CLI::App &app) {
    auto options = std::make_shared<CompileCmdOptions>();
    CLI::App *cmd = app.add_subcommand(
        "compile", "compile a checkpoint to a static library with a C API (libN.a, N.h, N.json)");
    add_model_options(cmd, options->model, /*weights_required=*/true);
    add_input_shape_options(cmd, options->model);
    cmd->add_option("--target,-t", options->target,
                    std::string("Halide target string or host, e.g. ") + codegen::target_examples() +
                        "; or a list a,b,c (most specific first, baseline last) compiled into one library "
                        "that picks at run time, or a preset: x86-64-all, arm64-all")
        ->capture_default_str();
    cmd->add_option("--name,-n", options->name,
                    "library name N (a C identifier): libN.a, N.h, N.json, N_run()")
        ->required();
    cmd->add_option("--out-dir,-o", options->out_dir, "output directory (created if missing)")
        ->required();
    cmd->add_option("--weights-mode", options->weights_mode,
                    "embedded: weights compiled into libN.a; external: read at run time from "
                    "N.weights, passed to N_init()")
        ->capture_default_str()
        ->check(CLI::IsMember({"embedded", "external"}));
    cmd->add_option("--weights-dtype", options->weights_dtype,
                    "f32, or f16: weights stored as float16 (half the bytes), converted to "
                    "float32 where loaded, computed in float32 (embedded weights only)")
        ->capture_default_str()
        ->check(CLI::IsMember({"f32", "f16"}));
    cmd->add_flag("--firmware", options->firmware,
                  "firmware library: single-threaded, no heap; N_run_in() computes in a "
                  "caller-owned workspace of N_WORKSPACE_BYTES planned at compile time");
    add_schedule_options(cmd, options->schedule);
    cmd->add_option("--schedule-threads", options->schedule.threads,
                    "with --schedule: prefer records measured with this many threads (m1c tune "
                    "--threads; 0: all cores), the count the library will run with")
        ->capture_default_str()
        ->check(CLI::Range(0, 1024));
    add_precision_options(cmd, options->precision);
    add_feature_options(cmd, options->features);
    cmd->callback([options] { run(*options); });
}

CommandRegistration registration(30, setup);

}  // namespace
}  // namespace m1c::cli
