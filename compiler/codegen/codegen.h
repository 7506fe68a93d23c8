// Code generation: the fused graph (see passes/pipeline.h) lowered to one Halide pipeline,
// scheduled from schedules/, compiled ahead of time to a static library + C header +
// manifest, or JIT-compiled and run on the host.
#pragma once
#include <array>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/schedule_choice.h"
#include "frontend/load_model.h"
#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c {

struct CompileOptions {
    std::string target = "host";  // Halide target string, or "host"
    std::string name;             // library name N: libN.a, N.h, N.json, N_run()
    std::string out_dir;
    codegen::ScheduleChoice schedule;  // default templates, tuned records or an autoscheduler
    bool external_weights = false;
    // Firmware (--firmware): single-threaded, no heap: N_run_in() with a caller-owned
    // workspace of N_WORKSPACE_BYTES planned at compile time (memory_plan.h), Halide
    // runtime without threads (target OS "noos"). See c_header.cpp.
    bool firmware = false;
    bool weights_f16 = false;     // --weights-dtype f16 (embedded weights only)
    // What the manifest records about the precision (cli/precision_options.h); the graph
    // itself says whether it is int8 (lowered.h: is_int8_graph).
    nlohmann::json precision = {{"precision", "f32"}};
};

// `m1c inspect --memory`: lowers and schedules as compile_library would for `options`
// (target, firmware, weights dtype), traces and plans the workspace, compiles the object
// code to measure it. Returns {"target", "schedule", "workspace_bytes",
// "naive_activation_bytes", ..., "code_bytes", "weight_bytes", ...} (see memory_report.cpp).
nlohmann::json memory_report(const Graph &fused, const InputShape &shape,
                             const CompileOptions &options);

// Writes out_dir/libN.a, out_dir/N.h, out_dir/N.json (atomically: all or nothing).
// `model` supplies the manifest facts (spec, weights path/hash); `fused` must pass
// check_codegen_form. Progress goes to `log`. Throws m1c::Error on bad options.
void compile_library(const LoadedModel &model, const Graph &fused, const InputShape &shape,
                     const CompileOptions &options, std::ostream &log);

// JIT-compiles the same pipeline for the host and runs it: input NCHW float32 of `shape`,
// returns logits [batch x classes]. (A HostPipeline compiled, run once.)
std::vector<float> run_on_host(const Graph &fused, const InputShape &shape,
                               const std::vector<float> &input_nchw, int num_threads = 0,
                               const codegen::ScheduleChoice &schedule = {});

// The pipeline `m1c compile` emits (same lowering, same default schedule), JIT-compiled for
// the host once and run as often as wanted: for `m1c run` and `m1c bench`.
// With `profile`, compiled with Halide's sampling profiler (Target::Profile): profile()
// then gives the time spent in each Func since the last reset_profile().
class HostPipeline {
public:
    // `target`: one this CPU runs (e.g. x86-64-linux-avx2-fma on an AVX-512 machine, to time
    // the AVX2 code); a default-constructed Target is the host's (targets.h).
    HostPipeline(const Graph &fused, const InputShape &shape, bool profile = false,
                 const codegen::ScheduleChoice &schedule = {},
                 const Halide::Target &target = Halide::Target());
    ~HostPipeline();
    HostPipeline(const HostPipeline &) = delete;
    HostPipeline &operator=(const HostPipeline &) = delete;

    void set_num_threads(int n);  // 0: all cores (Halide's default)
    // input: batch x 3 x H x W floats (NCHW); logits: batch x classes floats.
    void run(const float *input_nchw, float *logits);
    std::vector<float> run(const std::vector<float> &input_nchw);
    // Backbone builds (a graph with features): each feature map, NCHW float32, into
    // features[i] (feature_shapes()[i] floats).
    void run_features(const float *input_nchw, float *const *features);
    // (name, {N, C, H, W}) per feature output; empty for classifiers.
    const std::vector<std::pair<std::string, std::array<int, 4>>> &feature_shapes() const;

    const InputShape &shape() const;
    int num_classes() const;
    std::string target() const;                             // Halide target string
    const std::string &schedule_name() const;               // e.g. "default/x86-avx512"
    const std::vector<std::string> &schedule_ops() const;   // one line per op
    // Per fused op of the graph (in order): its name and the prefix of its Funcs' names.
    const std::vector<std::pair<std::string, std::string>> &op_funcs() const;

    struct FuncTime {
        std::string func;  // Halide Func name
        double seconds;    // total over the profiled runs
    };
    void reset_profile();
    // Per Func, since the last reset; `runs` gets the number of runs profiled.
    std::vector<FuncTime> profile(int *runs = nullptr) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace m1c
