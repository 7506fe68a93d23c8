// ReLU is applied where the conv (and its SE) writes its output, never as a separate pass
// over memory.
#include "passes/passes.h"

namespace m1c {

void fuse_conv_relu(Graph &graph) {
    for (size_t i = 0; i < graph.ops.size(); ++i) {
        int c = graph.producer(graph.ops[i].inputs.empty() ? -1 : graph.ops[i].inputs[0]);
        if (!graph.ops[i].is<ReluAttrs>() || c < 0 || !graph.ops[c].is<Conv2dAttrs>() ||
            !graph.has_single_consumer(c) || graph.ops[c].as<Conv2dAttrs>().relu)
            continue;
        graph.ops[c].as<Conv2dAttrs>().relu = true;
        graph.absorb_consumer(c);
        --i;
    }
}

}  // namespace m1c
