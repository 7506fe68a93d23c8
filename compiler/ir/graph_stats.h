// Parameter and multiply-accumulate counts, per op and per graph, as the paper counts them:
// parameters are the learnable ones (conv/linear weights and biases, BN gamma and beta, SE),
// MACs are those of convolutions, squeeze-excite and the linear layer.
#pragma once
#include <cstdint>

#include "ir/graph.h"

namespace m1c {

struct OpStats {
    int64_t params = 0;
    int64_t macs = 0;
};

OpStats op_stats(const Graph &graph, const Op &op);
OpStats graph_stats(const Graph &graph);  // sums over all ops

}  // namespace m1c
