// Building the graph IR from a spec and its (checked) weights.
#pragma once
#include "core/tensor.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"
#include "ir/graph.h"

namespace m1c {

struct InputShape {
    int batch = 1, height = 224, width = 224;
};

// Train-time weights give the full multi-branch graph (conv + batchnorm per branch, add,
// squeeze-excite, relu); fused weights give one conv + bias per block. The head is
// global_avg_pool -> linear either way; weights without a head (headless encoders, see
// has_head_keys) give a graph whose output is the last block's. Weights are copied in.
Graph build_graph(const Spec &spec, WeightFormat format, const TensorMap &weights,
                  const InputShape &shape);

// The graph with no weights (zero tensors of the right shapes), for `inspect --variant`.
Graph build_shape_graph(const Spec &spec, WeightFormat format, const InputShape &shape);

}  // namespace m1c
