// BN after conv: W' = W * gamma/std, b' = beta + (b - mean) * gamma/std, std = sqrt(var + eps).
// Arithmetic in double so the folded float32 weights carry only their final rounding.
#include <cmath>

#include "passes/passes.h"

namespace m1c {

void fold_batchnorm(Graph &graph) {
    for (size_t i = 0; i < graph.ops.size(); ++i) {
        if (!graph.ops[i].is<BatchNormAttrs>()) continue;
        int conv_index = graph.producer(graph.ops[i].inputs.at(0));
        if (conv_index < 0 || !graph.ops[conv_index].is<Conv2dAttrs>() ||
            !graph.has_single_consumer(conv_index))
            continue;  // e.g. the identity branch: a BN of the block input (fold_branches)
        const BatchNormAttrs bn = graph.ops[i].as<BatchNormAttrs>();
        Conv2dAttrs &conv = graph.ops[conv_index].as<Conv2dAttrs>();
        if (conv.se || conv.relu) continue;  // BN must apply to the plain conv output

        const int64_t cout = conv.weight.dim(0);
        const int64_t per_channel = conv.weight.numel() / cout;
        Tensor bias = Tensor::zeros({cout});
        for (int64_t o = 0; o < cout; ++o) {
            double scale = double(bn.gamma.data[o]) / std::sqrt(double(bn.var.data[o]) + bn.eps);
            for (int64_t j = 0; j < per_channel; ++j) {
                float &w = conv.weight.data[o * per_channel + j];
                w = float(double(w) * scale);
            }
            double b = conv.bias ? conv.bias->data[o] : 0.0;
            bias.data[o] = float(double(bn.beta.data[o]) + (b - double(bn.mean.data[o])) * scale);
        }
        conv.bias = std::move(bias);
        graph.absorb_consumer(conv_index);  // erases op i, which comes after conv_index
        --i;
    }
}

}  // namespace m1c
