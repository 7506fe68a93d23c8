// Measurement graphs of tuning units. See unit_graph.h.
#include "tune/unit_graph.h"

#include <random>

#include "core/error.h"

namespace m1c::tune {

namespace {

constexpr int kClasses = 16;

Tensor random_tensor(Shape shape, float scale, std::mt19937 &rng) {
    Tensor t = Tensor::zeros(std::move(shape));
    std::normal_distribution<float> d(0.0f, scale);
    for (float &v : t.data) v = d(rng);
    return t;
}

// Input value + (unless the unit reads the image) the producer conv; returns the value id
// the unit reads.
int add_input(UnitGraph &u, const Value &src, bool from_image, std::mt19937 &rng) {
    Graph &g = u.graph;
    u.shape = InputShape{src.n, src.h, src.w};
    g.input = g.add_value(Value{"image", src.n, 3, src.h, src.w});
    if (from_image) return g.input;
    Op op;
    op.name = "producer";
    op.inputs = {g.input};
    op.output = g.add_value(Value{"producer_out", src.n, src.c, src.h, src.w});
    Conv2dAttrs a;
    a.weight = random_tensor({src.c, 3, 1, 1}, 0.5f, rng);
    a.bias = random_tensor({src.c}, 0.1f, rng);
    a.relu = true;
    op.attrs = std::move(a);
    g.ops.push_back(std::move(op));
    u.offset = 1;
    return g.ops.back().output;
}

void add_head(UnitGraph &u, int current, std::mt19937 &rng) {
    Graph &g = u.graph;
    const Value v = g.values[current];
    Op op;
    op.name = "head";
    op.inputs = {current};
    op.output = g.add_value(Value{"logits", v.n, kClasses, 1, 1});
    LinearAttrs l;
    l.weight = random_tensor({kClasses, v.c}, 0.1f, rng);
    l.bias = random_tensor({kClasses}, 0.1f, rng);
    l.pooled_input = true;
    op.attrs = std::move(l);
    g.ops.push_back(std::move(op));
    g.output = g.ops.back().output;
}

}  // namespace

UnitGraph unit_graph(const Graph &fused, int first, int last) {
    if (first < 0 || last < first || last >= int(fused.ops.size()))
        throw Error("tune: bad op range");
    std::mt19937 rng(1234);
    UnitGraph u;
    const Op &op0 = fused.ops[first];
    const bool from_image = op0.inputs.at(0) == fused.input;
    int current = add_input(u, fused.values.at(op0.inputs.at(0)), from_image, rng);
    for (int i = first; i <= last; ++i) {
        Op op = fused.ops[i];
        if (!op.is<Conv2dAttrs>()) throw Error("tune: op " + op.name + " is not a conv");
        op.inputs = {current};
        op.output = u.graph.add_value(fused.values.at(fused.ops[i].output));
        current = op.output;
        u.graph.ops.push_back(std::move(op));
    }
    add_head(u, current, rng);
    return u;
}

UnitGraph baseline_graph(const Graph &fused, int first) {
    std::mt19937 rng(1234);
    UnitGraph u;
    const Op &op0 = fused.ops.at(first);
    if (op0.inputs.at(0) == fused.input) return u;
    const int current = add_input(u, fused.values.at(op0.inputs.at(0)), false, rng);
    add_head(u, current, rng);
    return u;
}

}  // namespace m1c::tune
