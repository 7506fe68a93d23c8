// --precision f32|int8 with its calibration options, shared by compile, run, bench and eval:
// what turns a float32 fused graph into an int8 one.
#pragma once
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/feature_options.h"
#include "frontend/load_model.h"
#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c::cli {

struct PrecisionOptions {
    std::string precision = "f32";
    // A .npy (N x 3 x H x W, preprocessed), a folder of PNG/JPEG images, a calibration file
    // (.json from --save-calibration), or "random[:N]" (N random images: timing only).
    std::string calibration;
    std::string save_calibration;
    std::string method;            // minmax | percentile | mse; "": the file's, else mse
    int calibration_samples = 0;   // at most this many samples (0: all)
    // Used when --calibration is not given (bench: "random:8"); empty: required.
    std::string default_calibration;

    bool int8() const { return precision == "int8"; }
};

void add_precision_options(CLI::App *cmd, PrecisionOptions &options);

// For int8: calibrates on the data (or reads the calibration file), optionally saves it, and
// annotates `fused` (passes.h: annotate_int8). A backbone build (`features`, after
// apply_features) is calibrated on the backbone's own graph: dilated stages compute other
// values. Returns what the manifest records about it ({"precision": "f32"} for float32).
// Throws m1c::Error on bad options or data.
nlohmann::json apply_precision(const PrecisionOptions &options, const LoadedModel &model,
                               const InputShape &shape, const FeatureOptions &features, Graph &fused,
                               std::ostream &log);

}  // namespace m1c::cli
