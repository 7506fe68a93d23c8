// Squeeze-excite reads the whole conv output (a global mean) before scaling it, so it is an
// epilogue of the conv: code generation computes it once the conv's tile of rows is done.
#include "passes/passes.h"

namespace m1c {

void fuse_squeeze_excite(Graph &graph) {
    for (size_t i = 0; i < graph.ops.size(); ++i) {
        int c = graph.producer(graph.ops[i].inputs.empty() ? -1 : graph.ops[i].inputs[0]);
        if (!graph.ops[i].is<SqueezeExciteAttrs>() || c < 0 || !graph.ops[c].is<Conv2dAttrs>() ||
            !graph.has_single_consumer(c))
            continue;
        Conv2dAttrs &conv = graph.ops[c].as<Conv2dAttrs>();
        if (conv.se || conv.relu) continue;
        conv.se = graph.ops[i].as<SqueezeExciteAttrs>();
        graph.absorb_consumer(c);
        --i;
    }
}

}  // namespace m1c
