// Code generation: the fused graph (see passes/pipeline.h) lowered to one Halide pipeline,
// scheduled from schedules/, compiled ahead of time to a static library + C header +
// manifest, or JIT-compiled and run on the host.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "frontend/load_model.h"
#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c {

struct CompileOptions {
    std::string target = "host";  // Halide target string, or "host"
    std::string name;             // library name N: libN.a, N.h, N.json, N_run()
    std::string out_dir;
    std::string schedule_file;    // tuned schedule records (empty: default templates)
    bool external_weights = false;
};

// Writes out_dir/libN.a, out_dir/N.h, out_dir/N.json (atomically: all or nothing).
// `model` supplies the manifest facts (spec, weights path/hash); `fused` must pass
// check_codegen_form. Progress goes to `log`. Throws m1c::Error on bad options.
void compile_library(const LoadedModel &model, const Graph &fused, const InputShape &shape,
                     const CompileOptions &options, std::ostream &log);

// JIT-compiles the same pipeline for the host and runs it: input NCHW float32 of `shape`,
// returns logits [batch x classes].
std::vector<float> run_on_host(const Graph &fused, const InputShape &shape,
                               const std::vector<float> &input_nchw, int num_threads = 0);

}  // namespace m1c
