// What a checkpoint must hold for a given spec, and the check of a loaded state dict
// against it (missing / unexpected keys, shapes, non-finite values).
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "frontend/naming.h"
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
// `head`: with the classifier (linear.*); without it for headless encoders.
std::vector<ExpectedTensor> expected_tensors(const Spec &spec, WeightFormat format,
                                             bool head = true);

// True when any key (authors' naming) belongs to the classifier head (linear.*). A
// checkpoint without one is a headless encoder: it loads for backbone builds only.
bool has_head_keys(const TensorMap &weights);

// Every problem found, one line each ("key stage1.0.rbr_conv.0.conv.weight: expected shape
// [48, 1, 3, 3], found [48, 1, 5, 5]"). Empty when the weights fit the spec. `weights` are
// in the authors' naming; keys are named in the problems as `naming` spells them. The head
// is expected when `weights` hold any head key (has_head_keys).
std::vector<std::string> weight_problems(const Spec &spec, WeightFormat format,
                                         const TensorMap &weights,
                                         Naming naming = Naming::Authors);

// Throws m1c::Error naming `source`, the naming, the format and listing the problems (the
// first 20 of them; missing keys come first in the order the network uses them).
void check_weights(const Spec &spec, WeightFormat format, const TensorMap &weights,
                   const std::string &source, Naming naming = Naming::Authors);

}  // namespace m1c
