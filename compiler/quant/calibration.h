// An int8 calibration: the value ranges of every quantized tensor of a model, as observed on
// calibration samples, and the quantization each range method gives. Written by
// `--save-calibration F.json`, read by `--calibration F.json` (a build is then reproducible
// without the data), applied to the fused graph by passes/annotate_int8.h.
//
// File (JSON): {"m1c_calibration": 1, "model": {"spec", "checkpoint_sha256"}, "samples",
// "data", "input_size": [H, W], "output_stride", "method", "tensors": [{"name", "min", "max",
// "ranges": {"minmax": [lo, hi], "percentile": [lo, hi], "mse": [lo, hi]}}, ...]}.
// Tensor names: "input" (the image), each fused conv op's name (its output), and
// "<head>.pooled" (the pooled features; a backbone build has no head). "output_stride":
// 32, or 16/8 for a dilated backbone (--output-stride), whose last stages compute other
// values under the same op names: a calibration is only used at its own output stride.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/graph.h"
#include "quant/range_observer.h"

namespace m1c::quant {

struct TensorRanges {
    std::string name;
    Range extremes;
    std::map<RangeMethod, Range> ranges;
};

struct Calibration {
    std::string spec_name, checkpoint_sha256, data;
    int samples = 0, height = 0, width = 0;
    int output_stride = 32;  // the graph observed: 16 or 8 for a dilated backbone
    RangeMethod method = RangeMethod::Mse;  // the method used unless told otherwise
    std::vector<TensorRanges> tensors;

    const TensorRanges *find(const std::string &name) const;
};

// 8-bit parameters for a range: scale = (hi - lo) / 255, zero point round(-lo / scale).
QuantParams quant_params(const Range &r);

nlohmann::json calibration_json(const Calibration &c);
// Throws m1c::Error naming `path` and what is wrong.
Calibration calibration_from_json(const nlohmann::json &j, const std::string &path);
void save_calibration(const Calibration &c, const std::string &path);
Calibration load_calibration(const std::string &path);

}  // namespace m1c::quant
