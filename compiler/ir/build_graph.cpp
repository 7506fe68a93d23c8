#include "ir/build_graph.h"

#include "core/error.h"

namespace m1c {
namespace {

// Gives tensors by key; in shape-only mode, zero tensors of the expected shapes.
class WeightSource {
public:
    WeightSource(const TensorMap *weights, const Spec &spec, WeightFormat format) : weights_(weights) {
        if (!weights_)
            for (const ExpectedTensor &e : expected_tensors(spec, format)) shapes_[e.key] = e.shape;
    }
    Tensor get(const std::string &key) const {
        if (weights_) {
            auto it = weights_->find(key);
            if (it == weights_->end()) throw Error("internal: weight " + key + " missing after check");
            return it->second;
        }
        return Tensor::zeros(shapes_.at(key));
    }

private:
    const TensorMap *weights_;
    std::map<std::string, Shape> shapes_;
};

int conv_out(int size, int kernel, int stride, int pad) { return (size + 2 * pad - kernel) / stride + 1; }

class GraphBuilder {
public:
    GraphBuilder(const WeightSource &w) : w_(w) {}
    Graph graph;

    int add(std::string name, std::vector<int> inputs, OpAttrs attrs, Value out) {
        out.name = name;
        int id = graph.add_value(std::move(out));
        graph.ops.push_back(Op{std::move(name), std::move(inputs), id, std::move(attrs)});
        return id;
    }

    int conv(const std::string &name, int x, int kernel, int stride, int groups, int cout,
             bool with_bias) {
        const Value in = graph.values[x];
        Conv2dAttrs c;
        c.kernel = kernel;
        c.stride = stride;
        c.pad = kernel / 2;
        c.groups = groups;
        c.weight = w_.get(name + ".weight");
        if (with_bias) c.bias = w_.get(name + ".bias");
        Value out{"", in.n, cout, conv_out(in.h, kernel, stride, c.pad), conv_out(in.w, kernel, stride, c.pad)};
        return add(name, {x}, std::move(c), out);
    }

    int batchnorm(const std::string &name, int x) {
        BatchNormAttrs bn;
        bn.gamma = w_.get(name + ".weight");
        bn.beta = w_.get(name + ".bias");
        bn.mean = w_.get(name + ".running_mean");
        bn.var = w_.get(name + ".running_var");
        return add(name, {x}, std::move(bn), graph.values[x]);
    }

    int block(const BlockLayout &b, WeightFormat format, int x) {
        int sum;
        if (format == WeightFormat::Fused) {
            sum = conv(b.prefix + ".reparam_conv", x, b.kernel, b.stride, b.groups, b.out_channels, true);
        } else {
            std::vector<int> branches;
            for (int i = 0; i < b.conv_branches; ++i) {
                std::string p = b.prefix + ".rbr_conv." + std::to_string(i);
                int y = conv(p + ".conv", x, b.kernel, b.stride, b.groups, b.out_channels, false);
                branches.push_back(batchnorm(p + ".bn", y));
            }
            if (b.has_scale) {
                int y = conv(b.prefix + ".rbr_scale.conv", x, 1, b.stride, b.groups, b.out_channels, false);
                branches.push_back(batchnorm(b.prefix + ".rbr_scale.bn", y));
            }
            if (b.has_identity) branches.push_back(batchnorm(b.prefix + ".rbr_skip", x));
            // The sum of the block's branches; an add of one input is that input.
            Value out = graph.values[branches.front()];
            sum = add(b.prefix, branches, AddAttrs{}, out);
        }
        if (b.has_se) {
            SqueezeExciteAttrs se;
            se.reduce_weight = w_.get(b.prefix + ".se.reduce.weight");
            se.reduce_bias = w_.get(b.prefix + ".se.reduce.bias");
            se.expand_weight = w_.get(b.prefix + ".se.expand.weight");
            se.expand_bias = w_.get(b.prefix + ".se.expand.bias");
            sum = add(b.prefix + ".se", {sum}, std::move(se), graph.values[sum]);
        }
        return add(b.prefix + ".relu", {sum}, ReluAttrs{}, graph.values[sum]);
    }

private:
    const WeightSource &w_;
};

Graph build(const Spec &spec, WeightFormat format, const TensorMap *weights, const InputShape &shape) {
    if (shape.batch < 1 || shape.height < 1 || shape.width < 1)
        throw Error("input shape must be positive");
    WeightSource source(weights, spec, format);
    GraphBuilder b(source);
    b.graph.input = b.graph.add_value(Value{"input", shape.batch, 3, shape.height, shape.width});
    int x = b.graph.input;
    NetworkLayout net = network_layout(spec);
    for (const BlockLayout &block : net.blocks) x = b.block(block, format, x);

    // A headless encoder (no linear.* weights) ends at its last block.
    if (weights && !has_head_keys(*weights)) {
        b.graph.output = x;
        return std::move(b.graph);
    }
    const Value feat = b.graph.values[x];
    x = b.add("gap", {x}, GlobalAvgPoolAttrs{}, Value{"", feat.n, feat.c, 1, 1});
    LinearAttrs lin;
    lin.weight = source.get("linear.weight");
    lin.bias = source.get("linear.bias");
    b.graph.output = b.add("linear", {x}, std::move(lin), Value{"", feat.n, net.num_classes, 1, 1});
    return std::move(b.graph);
}

}  // namespace

Graph build_graph(const Spec &spec, WeightFormat format, const TensorMap &weights,
                  const InputShape &shape) {
    return build(spec, format, &weights, shape);
}

Graph build_shape_graph(const Spec &spec, WeightFormat format, const InputShape &shape) {
    return build(spec, format, nullptr, shape);
}

}  // namespace m1c
