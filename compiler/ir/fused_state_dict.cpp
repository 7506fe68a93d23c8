#include "ir/fused_state_dict.h"

#include "core/error.h"

namespace m1c {

TensorMap fused_state_dict(const Graph &folded) {
    TensorMap out;
    for (const Op &op : folded.ops) {
        if (op.is<Conv2dAttrs>()) {
            const Conv2dAttrs &c = op.as<Conv2dAttrs>();
            out[op.name + ".reparam_conv.weight"] = c.weight;
            if (c.bias) out[op.name + ".reparam_conv.bias"] = *c.bias;
            if (c.se) {
                out[op.name + ".se.reduce.weight"] = c.se->reduce_weight;
                out[op.name + ".se.reduce.bias"] = c.se->reduce_bias;
                out[op.name + ".se.expand.weight"] = c.se->expand_weight;
                out[op.name + ".se.expand.bias"] = c.se->expand_bias;
            }
        } else if (op.is<LinearAttrs>()) {
            out["linear.weight"] = op.as<LinearAttrs>().weight;
            out["linear.bias"] = op.as<LinearAttrs>().bias;
        } else {
            throw Error("internal: fused_state_dict needs a folded graph, found " + op_kind_name(op));
        }
    }
    return out;
}

}  // namespace m1c
