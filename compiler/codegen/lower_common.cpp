#include "codegen/lower_common.h"

#include <cctype>
#include <set>

#include "core/error.h"

namespace m1c::codegen {

namespace {
std::string c_name(const std::string &s) {
    std::string out;
    for (char ch : s) out += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
    return out;
}
}  // namespace

void expect(bool ok, const std::string &op, const std::string &what) {
    if (!ok) throw Error("codegen: op " + op + ": " + what);
}

std::vector<std::string> op_func_names(const Graph &g) {
    std::set<std::string> used;
    std::vector<std::string> names;
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        std::string fname = c_name(op.name.empty() ? "op" + std::to_string(i) : op.name);
        if (!used.insert(fname).second) {
            fname += "_" + std::to_string(i);
            used.insert(fname);
        }
        expect(op.inputs.size() == 1 && op.inputs[0] >= 0 && op.inputs[0] < int(g.values.size()) &&
                   op.output >= 0 && op.output < int(g.values.size()),
               op.name, "bad value ids");
        names.push_back(fname);
    }
    return names;
}

void declare_input(LoweredPipeline &p, const Graph &g, const InputShape &shape) {
    p.shape = shape;
    if (g.input < 0 || g.output < 0 || g.ops.empty()) throw Error("codegen: empty graph");
    const Value &in = g.values.at(g.input);
    if (in.n != shape.batch || in.c != 3 || in.h != shape.height || in.w != shape.width)
        throw Error("codegen: graph input [" + std::to_string(in.n) + ", " + std::to_string(in.c) +
                    ", " + std::to_string(in.h) + ", " + std::to_string(in.w) +
                    "] does not match the requested shape " + std::to_string(shape.batch) + "x3x" +
                    std::to_string(shape.height) + "x" + std::to_string(shape.width));
    p.input = Halide::ImageParam(Halide::Float(32), 4, "input");
    const int W = in.w, H = in.h, C = in.c, N = in.n;
    p.input.dim(0).set_bounds(0, W).set_stride(1);
    p.input.dim(1).set_bounds(0, H).set_stride(W);
    p.input.dim(2).set_bounds(0, C).set_stride(W * H);
    p.input.dim(3).set_bounds(0, N).set_stride(W * H * C);
}

void describe_conv(LoweredConv &L, const Op &op, const Value &src, const Value &dst) {
    expect(op.is<Conv2dAttrs>(), op.name, "unsupported op kind " + op_kind_name(op));
    const Conv2dAttrs &a = op.as<Conv2dAttrs>();
    expect(a.bias.has_value(), op.name, "conv without bias");
    L.name = op.name;
    L.cin = src.c;
    L.cout = dst.c;
    L.kernel = a.kernel;
    L.stride = a.stride;
    L.pad = a.pad;
    L.dilation = a.dilation;
    L.batch = src.n;
    L.in_h = src.h;
    L.in_w = src.w;
    L.out_h = dst.h;
    L.out_w = dst.w;
    L.relu = a.relu;
    expect(a.kernel >= 1 && a.stride >= 1 && a.pad >= 0 && a.dilation >= 1, op.name,
           "bad kernel/stride/pad/dilation");
    const int span = a.dilation * (a.kernel - 1) + 1;  // input pixels one output reads
    expect(dst.h == (src.h + 2 * a.pad - span) / a.stride + 1 &&
               dst.w == (src.w + 2 * a.pad - span) / a.stride + 1 && dst.n == src.n,
           op.name, "output shape disagrees with kernel/stride/pad");
    if (a.groups == 1) {
        L.kind = ConvKind::Dense;
        expect(a.weight.shape == Shape{L.cout, L.cin, a.kernel, a.kernel}, op.name,
               "weight shape " + shape_str(a.weight.shape));
    } else {
        expect(a.groups == L.cin && L.cin == L.cout, op.name,
               "groups = " + std::to_string(a.groups) + " (only 1 and depthwise are supported)");
        L.kind = ConvKind::Depthwise;
        expect(a.weight.shape == Shape{L.cout, 1, a.kernel, a.kernel}, op.name,
               "weight shape " + shape_str(a.weight.shape));
    }
    expect(a.bias->numel() == L.cout, op.name, "bias size");
}

void describe_head(LoweredHead &h, const Op &op, const Value &src, size_t index, const Graph &g,
                   int current) {
    const LinearAttrs &l = op.as<LinearAttrs>();
    expect(l.pooled_input, op.name, "linear without the global average pool");
    expect(index + 1 == g.ops.size() && op.output == g.output, op.name,
           "the head must be the last op");
    expect(current != g.input, op.name, "a head reading the image directly");
    h.name = op.name;
    h.features = src.c;
    h.classes = int(l.weight.shape.empty() ? 0 : l.weight.dim(0));
    h.batch = src.n;
    h.in_h = src.h;
    h.in_w = src.w;
    expect(l.weight.shape == Shape{h.classes, h.features}, op.name,
           "linear weight " + shape_str(l.weight.shape) + " for " + std::to_string(h.features) +
               " features");
    expect(l.bias.numel() == h.classes, op.name, "linear bias size");
}

std::vector<float> transposed(const Tensor &w, int rows, int cols) {
    std::vector<float> out(size_t(rows) * cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) out[size_t(c) * rows + r] = w.data[size_t(r) * cols + c];
    return out;
}

SqueezeExciteWeights add_squeeze_excite_weights(WeightStore &ws, const Op &op,
                                                const SqueezeExciteAttrs &se, int channels,
                                                const std::string &fname) {
    const int C = channels, R = int(se.reduce_weight.shape.empty() ? 0 : se.reduce_weight.dim(0));
    expect(R > 0 && se.reduce_weight.numel() == int64_t(R) * C && se.reduce_bias.numel() == R &&
               se.expand_weight.numel() == int64_t(C) * R && se.expand_bias.numel() == C,
           op.name, "squeeze-excite weight shapes");
    SqueezeExciteWeights W;
    W.rw = ws.add(fname + "_se_rw", {R, C}, transposed(se.reduce_weight, R, C),
                  op.name + " se.reduce.weight");
    W.rb = ws.add(fname + "_se_rb", {R}, se.reduce_bias.data, op.name + " se.reduce.bias");
    W.ew = ws.add(fname + "_se_ew", {C, R}, transposed(se.expand_weight, C, R),
                  op.name + " se.expand.weight");
    W.eb = ws.add(fname + "_se_eb", {C}, se.expand_bias.data, op.name + " se.expand.bias");
    return W;
}

Halide::Expr lower_squeeze_excite(LoweredPipeline &p, LoweredConv &L, Halide::Func pre,
                                  const SqueezeExciteWeights &W, const std::string &fname) {
    using Halide::Func;
    using Halide::RDom;
    Halide::Var &c = p.c, &n = p.n;
    const int C = L.cout, R = W.rb.extents.at(0);
    L.has_se = true;
    L.se_channels = R;
    L.se_hw = RDom(0, L.out_w, 0, L.out_h, fname + "_se_hw");
    L.se_sum = Func(fname + "_se_sum");
    L.se_sum(c, n) = 0.0f;
    L.se_sum(c, n) += pre(c, L.se_hw.x, L.se_hw.y, n);
    L.se_rc = RDom(0, C, fname + "_se_rc");
    L.se_reduce = Func(fname + "_se_reduce");
    L.se_reduce(c, n) = W.rb({c});
    L.se_reduce(c, n) += W.rw({c, L.se_rc}) * (L.se_sum(L.se_rc, n) / float(L.out_h * L.out_w));
    L.se_rj = RDom(0, R, fname + "_se_rj");
    L.se_expand = Func(fname + "_se_expand");
    L.se_expand(c, n) = W.eb({c});
    L.se_expand(c, n) += W.ew({c, L.se_rj}) * Halide::max(L.se_reduce(L.se_rj, n), 0.0f);
    L.se_scale = Func(fname + "_se_scale");
    L.se_scale(c, n) = 1.0f / (1.0f + Halide::exp(-L.se_expand(c, n)));
    return L.se_scale(c, n);
}

void constrain_output(LoweredPipeline &p) {
    const int K = p.num_classes, N = p.shape.batch;
    p.output.output_buffer().dim(0).set_bounds(0, K).set_stride(1);
    p.output.output_buffer().dim(1).set_bounds(0, N).set_stride(K);
}

}  // namespace m1c::codegen
