// The folded graph's weights as an inference-mode ("reparameterised") state dict with the
// authors' key names: P.reparam_conv.{weight,bias}, P.se.*, linear.*.
#pragma once
#include "core/tensor.h"
#include "ir/graph.h"

namespace m1c {

TensorMap fused_state_dict(const Graph &folded);

}  // namespace m1c
