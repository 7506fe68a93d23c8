#include "ir/graph_stats.h"

namespace m1c {
namespace {

OpStats se_stats(const SqueezeExciteAttrs &se, int batch) {
    OpStats s;
    s.params = se.reduce_weight.numel() + se.reduce_bias.numel() + se.expand_weight.numel() +
               se.expand_bias.numel();
    s.macs = int64_t(batch) * (se.reduce_weight.numel() + se.expand_weight.numel());
    return s;
}

}  // namespace

OpStats op_stats(const Graph &graph, const Op &op) {
    const Value &out = graph.values[op.output];
    OpStats s;
    if (op.is<Conv2dAttrs>()) {
        const Conv2dAttrs &c = op.as<Conv2dAttrs>();
        s.params = c.weight.numel() + (c.bias ? c.bias->numel() : 0);
        // Each output element takes (Cin/groups) * k * k MACs: the weight's per-channel size.
        s.macs = out.numel() * (c.weight.numel() / c.weight.dim(0));
        if (c.se) {
            OpStats se = se_stats(*c.se, out.n);
            s.params += se.params;
            s.macs += se.macs;
        }
    } else if (op.is<BatchNormAttrs>()) {
        s.params = op.as<BatchNormAttrs>().gamma.numel() + op.as<BatchNormAttrs>().beta.numel();
    } else if (op.is<SqueezeExciteAttrs>()) {
        s = se_stats(op.as<SqueezeExciteAttrs>(), out.n);
    } else if (op.is<LinearAttrs>()) {
        const LinearAttrs &l = op.as<LinearAttrs>();
        s.params = l.weight.numel() + l.bias.numel();
        s.macs = int64_t(out.n) * l.weight.numel();
    }
    return s;
}

OpStats graph_stats(const Graph &graph) {
    OpStats total;
    for (const Op &op : graph.ops) {
        OpStats s = op_stats(graph, op);
        total.params += s.params;
        total.macs += s.macs;
    }
    return total;
}

}  // namespace m1c
