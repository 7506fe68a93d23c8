// The algorithm: the fused graph as Halide Funcs, one per fused op. No scheduling here
// (schedules/ does that); exact math only (sigmoid via exp, sums in float32).
#include <cctype>
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "codegen/lower_common.h"
#include "codegen/lowered.h"
#include "core/error.h"

namespace m1c::codegen {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;

namespace {

// torch [Cout, Cin, k, k] -> extents (Cout, Cin, kx, ky), Cout innermost.
std::vector<float> dense_layout(const Tensor &w, int cout, int cin, int k) {
    std::vector<float> out(size_t(cout) * cin * k * k);
    for (int co = 0; co < cout; ++co)
        for (int ci = 0; ci < cin; ++ci)
            for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx)
                    out[((size_t(ky) * k + kx) * cin + ci) * cout + co] =
                        w.data[((size_t(co) * cin + ci) * k + ky) * k + kx];
    return out;
}

// torch [C, 1, k, k] -> extents (C, kx, ky), C innermost.
std::vector<float> depthwise_layout(const Tensor &w, int ch, int k) {
    std::vector<float> out(size_t(ch) * k * k);
    for (int c = 0; c < ch; ++c)
        for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
                out[(size_t(ky) * k + kx) * ch + c] = w.data[(size_t(c) * k + ky) * k + kx];
    return out;
}

// Rows innermost (`inner_first[col * rows + row]`, e.g. from transposed() or dense_layout()
// with k = 1) -> blocked by B rows: extents (B, cols, ceil(rows / B)), zero-padded.
std::vector<float> blocked(const std::vector<float> &inner_first, int rows, int cols, int B) {
    const int blocks = (rows + B - 1) / B;
    std::vector<float> out(size_t(B) * cols * blocks, 0.0f);
    for (int c = 0; c < cols; ++c)
        for (int r = 0; r < rows; ++r)
            out[(size_t(r / B) * cols + c) * B + r % B] = inner_first[size_t(c) * rows + r];
    return out;
}

std::vector<int> blocked_extents(int rows, int cols) {
    return {kWeightBlock, cols, (rows + kWeightBlock - 1) / kWeightBlock};
}

// The weight tensors of one op, rearranged and added to the store (pass 1 of lowering: the
// blob must be complete before any Func reads it). Shapes are checked first.
struct OpWeights {
    WeightRef w, b;
    SqueezeExciteWeights se;
};

OpWeights add_op_weights(WeightStore &ws, const Op &op, const std::string &fname, const Value &src,
                         const Value &dst) {
    OpWeights W;
    if (op.is<LinearAttrs>()) {
        const LinearAttrs &l = op.as<LinearAttrs>();
        const int K = int(l.weight.shape.empty() ? 0 : l.weight.dim(0)), F = src.c;
        expect(l.weight.shape == Shape{K, F}, op.name,
               "linear weight " + shape_str(l.weight.shape) + " for " + std::to_string(F) + " features");
        expect(l.bias.numel() == K, op.name, "linear bias size");
        W.w = ws.add(fname + "_w", blocked_extents(K, F),
                     blocked(transposed(l.weight, K, F), K, F, kWeightBlock), op.name + " linear.weight");
        W.b = ws.add(fname + "_b", {K}, l.bias.data, op.name + " linear.bias");
        return W;
    }
    if (!op.is<Conv2dAttrs>()) return W;  // rejected by pass 2
    const Conv2dAttrs &a = op.as<Conv2dAttrs>();
    const int cin = src.c, cout = dst.c, kk = a.kernel;
    expect(a.bias.has_value() && a.bias->numel() == cout, op.name, "conv without a bias of size Cout");
    if (a.groups == 1) {
        expect(a.weight.shape == Shape{cout, cin, kk, kk}, op.name,
               "weight shape " + shape_str(a.weight.shape));
        W.w = kk == 1 ? ws.add(fname + "_w", blocked_extents(cout, cin),
                               blocked(dense_layout(a.weight, cout, cin, 1), cout, cin, kWeightBlock),
                               op.name + " weight")
                      : ws.add(fname + "_w", {cout, cin, kk, kk}, dense_layout(a.weight, cout, cin, kk),
                               op.name + " weight");
    } else {
        expect(a.groups == cin && cin == cout, op.name,
               "groups = " + std::to_string(a.groups) + " (only 1 and depthwise are supported)");
        expect(a.weight.shape == Shape{cout, 1, kk, kk}, op.name,
               "weight shape " + shape_str(a.weight.shape));
        W.w = ws.add(fname + "_w", {cout, kk, kk}, depthwise_layout(a.weight, cout, kk),
                     op.name + " weight");
    }
    W.b = ws.add(fname + "_b", {cout}, a.bias->data, op.name + " bias");
    if (a.se) W.se = add_squeeze_excite_weights(ws, op, *a.se, cout, fname);
    return W;
}

}  // namespace

std::vector<Halide::Argument> LoweredPipeline::arguments() const {
    std::vector<Halide::Argument> args{input};
    if (weights.external()) args.push_back(weights.input());
    if (weights.external() && weights.blob_i8_bytes() > 0) args.push_back(weights.input_i8());
    return args;
}

// ---------------------------------------------------------------------------------------
LoweredPipeline lower(const Graph &g, const InputShape &shape, bool external_weights,
                      WeightsDType weights_dtype) {
    LoweredPipeline p(external_weights, weights_dtype);
    Halide::Var &c = p.c, &x = p.x, &y = p.y, &n = p.n, &k = p.k;
    declare_input(p, g, shape);

    int current = g.input;
    Halide::ImageParam image = p.input;
    Reader read = [image](Expr cc, Expr xx, Expr yy, Expr nn) { return image(xx, yy, cc, nn); };
    Func current_func;  // undefined while the image is the current value

    // Pass 1: names (unique, as Halide wants) and every weight tensor into the blob.
    const std::vector<std::string> names = op_func_names(g);
    std::vector<OpWeights> weights;
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        weights.push_back(add_op_weights(p.weights, op, names[i], g.values[op.inputs[0]], g.values[op.output]));
    }
    p.weights.finalize();

    // Pass 2: the Funcs.
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        const std::string &fname = names[i];
        const OpWeights &W = weights[i];
        expect(op.inputs.size() == 1 && op.inputs[0] == current, op.name,
               "not a chain (codegen takes one op reading the previous one's output)");
        const Value &src = g.values.at(op.inputs[0]);
        const Value &dst = g.values.at(op.output);

        if (op.is<LinearAttrs>()) {
            LoweredHead &h = p.head;
            describe_head(h, op, src, i, g, current);
            const WeightRef &lw = W.w, &lb = W.b;
            h.hw = RDom(0, src.w, 0, src.h, fname + "_hw");
            h.pool = Func(fname + "_pool");
            h.pool(c, n) = 0.0f;
            h.pool(c, n) += read(c, h.hw.x, h.hw.y, n);
            h.rf = RDom(0, h.features, fname + "_rf");
            h.linear = Func(fname + "_linear");
            h.linear(k, n) = lb({k});
            h.linear(k, n) += lw({k % kWeightBlock, h.rf, k / kWeightBlock}) * (h.pool(h.rf, n) / float(src.h * src.w));
            h.logits = Func(fname + "_logits");
            h.logits(k, n) = h.linear(k, n);
            p.output = h.logits;
            p.num_classes = h.classes;
            current = op.output;
            continue;
        }

        const Conv2dAttrs &a = op.as<Conv2dAttrs>();
        LoweredConv L;
        describe_conv(L, op, src, dst);
        L.from_image = (current == g.input);
        const WeightRef &bias = W.b, &w = W.w;

        // The zero-padded source, read as (c, x, y, n) whatever the layout.
        Reader src_read = read;
        if (a.pad > 0) {
            if (L.from_image) {
                L.padded = Halide::BoundaryConditions::constant_exterior(
                    p.input, 0.0f, {{0, src.w}, {0, src.h}});
                Func pf = L.padded;
                src_read = [pf](Expr cc, Expr xx, Expr yy, Expr nn) { return pf(xx, yy, cc, nn); };
            } else {
                L.padded = Halide::BoundaryConditions::constant_exterior(
                    current_func, 0.0f, {{Expr(), Expr()}, {0, src.w}, {0, src.h}});
                Func pf = L.padded;
                src_read = [pf](Expr cc, Expr xx, Expr yy, Expr nn) { return pf(cc, xx, yy, nn); };
            }
        }
        const int s = a.stride, pd = a.pad, kk = a.kernel, dl = a.dilation;
        L.pre = Func(fname + "_conv");
        if (L.kind == ConvKind::Dense) {
            if (kk == 1) {
                L.r = RDom(0, L.cin, fname + "_r");
                L.pre(c, x, y, n) = bias({c});
                L.pre(c, x, y, n) += w({c % kWeightBlock, L.r, c / kWeightBlock}) * src_read(L.r, x * s - pd, y * s - pd, n);
            } else {
                L.r = RDom(0, L.cin, 0, kk, 0, kk, fname + "_r");
                L.pre(c, x, y, n) = bias({c});
                L.pre(c, x, y, n) += w({c, L.r.x, L.r.y, L.r.z}) *
                                     src_read(L.r.x, x * s + L.r.y * dl - pd, y * s + L.r.z * dl - pd, n);
            }
        } else {
            Expr sum = bias({c});
            for (int ky = 0; ky < kk; ++ky)
                for (int kx = 0; kx < kk; ++kx)
                    sum = sum + w({c, kx, ky}) * src_read(c, x * s + kx * dl - pd, y * s + ky * dl - pd, n);
            L.pre(c, x, y, n) = sum;
        }

        Expr pre_val = L.pre(c, x, y, n);
        if (a.se) pre_val = pre_val * lower_squeeze_excite(p, L, L.pre, W.se, fname);
        L.out = Func(fname);
        L.out(c, x, y, n) = a.relu ? Halide::max(pre_val, 0.0f) : pre_val;

        Func of = L.out;
        read = [of](Expr cc, Expr xx, Expr yy, Expr nn) { return of(cc, xx, yy, nn); };
        current_func = L.out;
        current = op.output;
        p.convs.push_back(std::move(L));
    }
    if (!g.features.empty()) {  // a backbone: feature maps, no head
        expect(current == g.output && !p.output.defined(), "(graph)",
               "a backbone graph must end in its last feature");
        lower_feature_outputs(p, g);
        return p;
    }
    expect(current == g.output && p.output.defined(), "(graph)",
           "the graph must end in the pool+linear head");

    constrain_output(p);
    return p;
}

}  // namespace m1c::codegen
