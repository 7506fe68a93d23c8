// What a checkpoint must hold for a given spec, and the check of a loaded state dict
// against it (missing / unexpected keys, shapes, non-finite values).
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "frontend/spec.h"

namespace m1c {

enum class WeightFormat {
    TrainTime,  // rbr_conv / rbr_scale / rbr_skip branches with BatchNorm ("unfused")
    Fused,      // reparam_conv weight + bias per block ("reparameterised")
};
const char *weight_format_name(WeightFormat f);

// Fused if any key names a reparam_conv, else train-time.
WeightFormat detect_weight_format(const TensorMap &weights);

struct ExpectedTensor {
    std::string key;
    Shape shape;
    bool optional = false;  // num_batches_tracked: present in real checkpoints, never used
};
std::vector<ExpectedTensor> expected_tensors(const Spec &spec, WeightFormat format);

// Every problem found, one line each ("key stage1.0.rbr_conv.0.conv.weight: expected shape
// [48, 1, 3, 3], found [48, 1, 5, 5]"). Empty when the weights fit the spec.
std::vector<std::string> weight_problems(const Spec &spec, WeightFormat format,
                                         const TensorMap &weights);

// Throws m1c::Error naming `source` and listing the problems (the first 20 of them).
void check_weights(const Spec &spec, WeightFormat format, const TensorMap &weights,
                   const std::string &source);

}  // namespace m1c
