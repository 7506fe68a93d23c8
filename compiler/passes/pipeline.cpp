#include "passes/pipeline.h"

#include "core/error.h"
#include "passes/passes.h"

namespace m1c {

Graph fold_and_fuse(Graph graph) {
    fold_batchnorm(graph);   // conv + BN -> conv + bias, per branch
    fold_branches(graph);    // branches + identity BN -> one conv per block
    fuse_squeeze_excite(graph);  // before ReLU: SE sits between the conv and its ReLU
    fuse_conv_relu(graph);
    fuse_head(graph);
    check_codegen_form(graph);
    return graph;
}

void check_codegen_form(const Graph &graph) {
    int expected_input = graph.input;
    for (const Op &op : graph.ops) {
        bool ok = op.inputs.size() == 1 && op.inputs[0] == expected_input &&
                  ((op.is<Conv2dAttrs>() && op.as<Conv2dAttrs>().bias) ||
                   (op.is<LinearAttrs>() && op.as<LinearAttrs>().pooled_input));
        if (!ok)
            throw Error("internal: op " + op.name + " (" + op_kind_name(op) +
                        ") was not folded into the chain of conv/head ops code generation takes");
        expected_input = op.output;
    }
    if (expected_input != graph.output) throw Error("internal: folded graph does not end in its output");
}

}  // namespace m1c
