// Options shared by every command that takes a model: --weights, --variant, --spec, and
// --input-size/--batch.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "frontend/load_model.h"
#include "ir/build_graph.h"

namespace m1c::cli {

struct ModelOptions {
    std::string weights, variant, spec, input_size = "224x224";
    int batch = 1;

    ModelRequest request() const;  // --weights required
    Spec spec_only() const;        // --variant or --spec, no weights
    InputShape input_shape() const;  // validated: H, W multiples of 32, batch >= 1
};

// `weights_required`: whether --weights must be given (inspect can do without).
void add_model_options(CLI::App *cmd, ModelOptions &options, bool weights_required);
void add_input_shape_options(CLI::App *cmd, ModelOptions &options);

// Parses "HxW" (e.g. "224x224", "160x96"); throws m1c::Error unless both are positive
// multiples of 32 no larger than 8192.
void parse_input_size(const std::string &text, int &height, int &width);

}  // namespace m1c::cli
