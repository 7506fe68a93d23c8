// Random weights of the right shapes for a spec, in the fused (reparameterised) format: for
// timing and tuning without a checkpoint (`m1c bench`/`m1c tune` with only --variant or
// --spec). Speed does not depend on the values; the distribution (Kaiming-normal over the
// fan-in, small biases) only keeps activations in a normal range through the network.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "frontend/spec.h"

namespace m1c {

TensorMap random_fused_weights(const Spec &spec, uint32_t seed = 20240601);

}  // namespace m1c
