// --features stage1,...,stage4: a backbone build (compile, run, inspect) returns those
// stages' feature maps instead of logits. Shared by the commands that take it.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "frontend/load_model.h"
#include "ir/graph.h"

namespace m1c::cli {

struct FeatureOptions {
    std::string list;  // as given; empty: a classifier build
    int output_stride = 32;  // 16 or 8: the last stages dilated (passes: dilate_stages)
    bool backbone() const { return !list.empty(); }
};

void add_feature_options(CLI::App *cmd, FeatureOptions &options);

// "stage1,stage3" -> {1, 3}. Throws m1c::Error unless a non-empty list of distinct
// stage1..stage4 in ascending order.
std::vector<int> parse_features(const std::string &list);

// What every command does with a loaded model and its fused graph: a classifier build needs
// the head (require_head); a backbone build keeps only the ops its features need
// (select_backbone). Before apply_precision: an int8 backbone is calibrated on that graph.
void apply_features(const FeatureOptions &options, const LoadedModel &model, Graph &fused);

// A backbone build's graph: `fused` dilated for --output-stride (passes: dilate_stages), cut
// to the ops the requested features need (passes: select_features).
void select_backbone(const FeatureOptions &options, Graph &fused);

}  // namespace m1c::cli
