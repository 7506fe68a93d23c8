// The classifier head: the global average pool feeds only the linear layer, so the linear
// layer reads the feature map and pools it itself (no [N, C, 1, 1] intermediate).
#include "passes/passes.h"

namespace m1c {

void fuse_head(Graph &graph) {
    for (size_t i = 0; i < graph.ops.size(); ++i) {
        if (!graph.ops[i].is<LinearAttrs>() || graph.ops[i].as<LinearAttrs>().pooled_input) continue;
        int p = graph.producer(graph.ops[i].inputs.at(0));
        if (p < 0 || !graph.ops[p].is<GlobalAvgPoolAttrs>() || !graph.has_single_consumer(p)) continue;
        graph.ops[i].as<LinearAttrs>().pooled_input = true;
        graph.ops[i].inputs = graph.ops[p].inputs;
        graph.ops.erase(graph.ops.begin() + p);
        i = static_cast<size_t>(p);  // the linear op moved to index p
    }
}

}  // namespace m1c
