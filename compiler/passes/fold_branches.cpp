// MobileOne's reparameterisation: a block's branches, all reading the same input x, are
//   k conv branches (kxk, BN already folded into bias),
//   a 1x1 scale branch (zero-padded to kxk: its tap sits at the centre),
//   an identity BatchNorm of x (an identity kernel: 1 at the centre tap of channel i,
//   input i mod (Cin/groups), then the BN folded into it),
// and their sum is one conv with the summed kernels and biases.
#include <cmath>

#include "core/error.h"
#include "passes/passes.h"

namespace m1c {
namespace {

struct Branches {
    int x = -1;  // the shared input value
    std::vector<const Conv2dAttrs *> convs;
    std::vector<const BatchNormAttrs *> identities;
};

// Returns false when the add is not a foldable MobileOne block.
bool collect(const Graph &g, const Op &add, Branches &out) {
    for (int in : add.inputs) {
        int p = g.producer(in);
        if (p < 0 || !g.has_single_consumer(p)) return false;
        const Op &op = g.ops[p];
        int x = op.inputs.at(0);
        if (out.x >= 0 && x != out.x) return false;
        out.x = x;
        if (op.is<Conv2dAttrs>()) {
            const Conv2dAttrs &c = op.as<Conv2dAttrs>();
            if (!c.bias || c.se || c.relu || c.pad != c.kernel / 2) return false;
            out.convs.push_back(&c);
        } else if (op.is<BatchNormAttrs>()) {
            out.identities.push_back(&op.as<BatchNormAttrs>());
        } else {
            return false;
        }
    }
    return !add.inputs.empty();
}

Conv2dAttrs fold(const Graph &g, const Branches &br, const Value &out_value) {
    const Value &in = g.values[br.x];
    int kernel = 1, stride = 1, groups = 1;
    for (const Conv2dAttrs *c : br.convs) kernel = std::max(kernel, c->kernel);
    if (!br.convs.empty()) {
        stride = br.convs[0]->stride;
        groups = br.convs[0]->groups;
    }
    for (const Conv2dAttrs *c : br.convs)
        if (c->stride != stride || c->groups != groups || (kernel - c->kernel) % 2 != 0)
            throw Error("fold_branches: branches of block " + out_value.name +
                        " differ in stride or groups");
    const int64_t cout = out_value.c, cin_g = in.c / groups, K = kernel;
    std::vector<double> w(static_cast<size_t>(cout * cin_g * K * K), 0.0), b(cout, 0.0);
    auto at = [&](int64_t o, int64_t i, int64_t y, int64_t x) -> double & {
        return w[((o * cin_g + i) * K + y) * K + x];
    };
    for (const Conv2dAttrs *c : br.convs) {
        const int64_t k = c->kernel, off = (K - k) / 2;
        for (int64_t o = 0; o < cout; ++o) {
            b[o] += c->bias->data[o];
            for (int64_t i = 0; i < cin_g; ++i)
                for (int64_t y = 0; y < k; ++y)
                    for (int64_t x = 0; x < k; ++x)
                        at(o, i, y + off, x + off) += c->weight.data[((o * cin_g + i) * k + y) * k + x];
        }
    }
    for (const BatchNormAttrs *bn : br.identities) {
        if (stride != 1 || in.c != cout)
            throw Error("fold_branches: identity branch of " + out_value.name +
                        " needs stride 1 and equal channels");
        for (int64_t o = 0; o < cout; ++o) {
            double scale = double(bn->gamma.data[o]) / std::sqrt(double(bn->var.data[o]) + bn->eps);
            at(o, o % cin_g, K / 2, K / 2) += scale;
            b[o] += double(bn->beta.data[o]) - double(bn->mean.data[o]) * scale;
        }
    }
    Conv2dAttrs conv;
    conv.kernel = kernel;
    conv.stride = stride;
    conv.pad = kernel / 2;
    conv.groups = groups;
    conv.weight = Tensor({cout, cin_g, K, K}, std::vector<float>(w.begin(), w.end()));
    conv.bias = Tensor({cout}, std::vector<float>(b.begin(), b.end()));
    return conv;
}

}  // namespace

void fold_branches(Graph &graph) {
    for (Op &op : graph.ops) {
        if (!op.is<AddAttrs>()) continue;
        Branches br;
        if (!collect(graph, op, br)) continue;
        Conv2dAttrs conv = fold(graph, br, graph.values[op.output]);
        // The add becomes the block's conv, reading x directly; the branch ops are now dead.
        op.attrs = std::move(conv);
        op.inputs = {br.x};
    }
    graph.remove_dead_ops();
}

}  // namespace m1c
