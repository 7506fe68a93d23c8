// The int8 algorithm: the fused graph with 8-bit activations and int8 weights.
//
// Every activation value carries its quantization (ir/graph.h QuantParams, from a
// calibration): real = scale * (q - zero_point), q in [0, 255]. It is stored as
// q + act_offset in act_type (lowered.h: u8 on x86, s8 = q - 128 on ARM). Weights are
// symmetric int8 with one scale per output channel (w = w_scale[co] * wq, |wq| <= 127;
// depthwise weights int16, see kDepthwiseLevels).
// A conv accumulates stored codes times int8 weights in int32, exactly:
//     acc[co] = sum_i wq[co, i] * a_stored[i]
// and since a_stored - (zero_point + act_offset) is the code's offset from real zero, the
// real pre-activation is
//     pre[co] = a_scale * w_scale[co] * (acc[co] - zs * sum_i wq[co, i]) + bias[co],
// zs = zero_point + act_offset. Zero padding pads with zs, so the correction holds at the
// borders too. The epilogue requantizes in float32: out = round(acc * M[co] + B[co]),
// saturated to the stored range, whose lower end is real zero for a ReLU op: the ReLU is
// the clamp. (Float requantization, as oneDNN and XNNPACK do on CPUs: one multiply-add.)
//
// Dot products: dense convs reduce over groups of 4 consecutive input channels (one 32-bit
// lane of vpdpbusd / sdot), weights laid out (4, 16 output channels, groups, Cout / 16) so a
// register tile loads whole 64-byte lines. The stem stays float32 (see "Float32 stem").
// Depthwise convs multiply 8-bit activations by 16-bit weights (kDepthwiseLevels), widened,
// accumulating in int32.
// Squeeze-excite and the pooled mean are computed in float32 and requantized.
#include <algorithm>
#include <cmath>

#include "codegen/lower_common.h"
#include "codegen/lowered.h"
#include "core/error.h"

namespace m1c::codegen {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;

namespace {

constexpr int kDot = 4;  // input channels per 32-bit dot-product lane

// Float32 stem: the stem (3 input channels, 27 weights per output channel) is computed in float32 from the
// float32 image, and only its output quantized: its weight quantization error is the one the
// rest of the network amplifies most. Measured on the trained Fashion-MNIST model (weights
// quantized, activations float): 8-bit stem weights give logits 28.7 dB SQNR and 99.19%
// argmax agreement with float32; a float32 stem 41.0 dB and 99.75%. It costs S0 about a
// fifth of its int8 time (the stem is 6% of S0's MACs, at float32 speed).

int round_up(int v, int m) { return (v + m - 1) / m * m; }

// Symmetric per-row quantization of a row-major [rows, cols] tensor to integers in
// [-levels, levels]: scale = max|w| / levels.
struct QuantRows {
    std::vector<int32_t> q;     // row-major like the input
    std::vector<float> scale;   // per row
    std::vector<int64_t> sum;   // per row: sum of q
};

constexpr int kInt8Levels = 127;
// Depthwise weights keep 16 bits: MobileOne's folded depthwise kernels carry the identity and
// 1x1 branches in their centre tap, which sets the scale; with 8 bits the other 8 taps keep
// only a few (measured on the trained Fashion-MNIST model: 8-bit depthwise weights alone cost
// up to 19 dB of SQNR in a block). 8-bit activations times 16-bit weights still accumulate
// exactly in int32 (255 * 32767 * 9 < 2^31).
constexpr int kDepthwiseLevels = 32767;

QuantRows quantize_rows(const std::vector<float> &w, int rows, int cols, int levels = kInt8Levels) {
    QuantRows r;
    r.q.resize(size_t(rows) * cols);
    r.scale.resize(size_t(rows));
    r.sum.assign(size_t(rows), 0);
    for (int i = 0; i < rows; ++i) {
        float m = 0;
        for (int j = 0; j < cols; ++j) m = std::max(m, std::fabs(w[size_t(i) * cols + j]));
        const float s = m > 0 ? m / float(levels) : 1.0f;
        r.scale[size_t(i)] = s;
        for (int j = 0; j < cols; ++j) {
            const float v = std::nearbyint(w[size_t(i) * cols + j] / s);
            const int32_t q = int32_t(std::clamp(v, -float(levels), float(levels)));
            r.q[size_t(i) * cols + j] = q;
            r.sum[size_t(i)] += q;
        }
    }
    return r;
}

// Stored zero: the stored code of real 0 for an activation with these parameters.
int stored_zero(const QuantParams &q, int act_offset) { return q.zero_point + act_offset; }

const QuantParams &quant_of(const Value &v, const std::string &op) {
    expect(v.quant.has_value(), op, "value " + v.name + " has no int8 quantization (calibrate first)");
    expect(v.quant->scale > 0 && std::isfinite(v.quant->scale) && v.quant->zero_point >= 0 &&
               v.quant->zero_point <= 255,
           op, "value " + v.name + " has a bad quantization");
    return *v.quant;
}

// The requantizing epilogue's per-channel multiplier and offset:
//   stored_out = round(acc * M[co] + B[co]), for pre = a_scale * w_scale * (acc - zs * sum) + b.
struct Requant {
    std::vector<float> mul, add;
};
Requant requant_params(const QuantRows &w, const std::vector<float> &bias, const QuantParams &in,
                       int in_zs, const QuantParams &out, int out_offset) {
    Requant r;
    for (size_t co = 0; co < w.scale.size(); ++co) {
        const double d = double(in.scale) * w.scale[co];  // real value of one acc unit
        r.mul.push_back(float(d / out.scale));
        r.add.push_back(float((bias[co] - d * double(in_zs) * double(w.sum[co])) / out.scale +
                              out.zero_point + out_offset));
    }
    return r;
}
// The same to the real (float) pre-activation: pre = acc * D[co] + E[co].
Requant dequant_params(const QuantRows &w, const std::vector<float> &bias, const QuantParams &in,
                       int in_zs) {
    Requant r;
    for (size_t co = 0; co < w.scale.size(); ++co) {
        const double d = double(in.scale) * w.scale[co];
        r.mul.push_back(float(d));
        r.add.push_back(float(bias[co] - d * double(in_zs) * double(w.sum[co])));
    }
    return r;
}

// Channels an int8 op computes and stores: Cout rounded up to a whole weight block, so that
// dot products and stores are whole vectors (schedules align their bounds to it) and a
// consumer's last 4-group of input channels reads computed values. The padded channels
// have zero weights and hold real zero.
int padded_channels(int c) { return round_up(c, kWeightBlock); }

// `v` extended to `n` entries with `fill`.
template <class T>
std::vector<T> padded(std::vector<T> v, int n, T fill) {
    v.resize(size_t(n), fill);
    return v;
}

// Weight tensors of one op in the blobs (pass 1).
struct OpWeights {
    WeightRef w;            // int8
    WeightRef mul, add;     // float: requantization (or dequantization with SE) per channel
    SqueezeExciteWeights se;
    int groups = 0;         // dense: 4-groups of input channels (or input channels: stem)
};

// Dense kxk conv reading channels-innermost activations: (4, 16, G * k * k, Cout16 / 16),
// element (ci % 4, co % 16, ci / 4 + G * (kx + k * ky), co / 16), zero-padded.
std::vector<int8_t> dense_int8_layout(const QuantRows &q, int cout, int cin, int k, int G) {
    const int blocks = (cout + kWeightBlock - 1) / kWeightBlock;
    std::vector<int8_t> out(size_t(kDot) * kWeightBlock * G * k * k * blocks, 0);
    for (int co = 0; co < cout; ++co)
        for (int ci = 0; ci < cin; ++ci)
            for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx) {
                    const size_t g = size_t(ci / kDot) + size_t(G) * (kx + size_t(k) * ky);
                    const size_t idx =
                        ((size_t(co / kWeightBlock) * G * k * k + g) * kWeightBlock + co % kWeightBlock) * kDot +
                        ci % kDot;
                    out[idx] = int8_t(q.q[((size_t(co) * cin + ci) * k + ky) * k + kx]);
                }
    return out;
}

// The stem in float32 (see "Float32 stem"): torch [Cout, Cin, k, k] -> (C16, Cin, kx, ky), C
// innermost, padded channels zero.
std::vector<float> stem_float_layout(const std::vector<float> &w, int cout, int cin, int k) {
    const int stride = padded_channels(cout);
    std::vector<float> out(size_t(stride) * cin * k * k, 0.0f);
    for (int co = 0; co < cout; ++co)
        for (int ci = 0; ci < cin; ++ci)
            for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx)
                    out[((size_t(ky) * k + kx) * cin + ci) * stride + co] = w[((size_t(co) * cin + ci) * k + ky) * k + kx];
    return out;
}

// torch [C, 1, k, k] -> (C16, kx, ky), C innermost; the 16-bit integers held in floats
// (exact), converted where loaded (outside the pixel loop).
std::vector<float> depthwise_int16_layout(const QuantRows &q, int ch, int k) {
    const int stride = padded_channels(ch);  // padded channels zero
    std::vector<float> out(size_t(stride) * k * k, 0.0f);
    for (int c = 0; c < ch; ++c)
        for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
                out[(size_t(ky) * k + kx) * stride + c] = float(q.q[(size_t(c) * k + ky) * k + kx]);
    return out;
}

OpWeights add_conv_weights(LoweredPipeline &p, const Op &op, const std::string &fname,
                           const Value &src, const Value &dst, bool from_image) {
    WeightStore &ws = p.weights;
    const Conv2dAttrs &a = op.as<Conv2dAttrs>();
    const int cin = src.c, cout = dst.c, k = a.kernel;
    expect(a.bias.has_value() && a.bias->numel() == cout, op.name, "conv without a bias of size Cout");
    const int per_row = int(a.weight.numel() / std::max(cout, 1));
    const bool depthwise = a.groups != 1;
    const QuantRows q = quantize_rows(a.weight.data, cout, per_row, depthwise ? kDepthwiseLevels : kInt8Levels);
    OpWeights W;
    const int c16 = padded_channels(cout);
    const QuantParams &qout = quant_of(dst, op.name);
    if (a.groups == 1 && from_image) {
        expect(!a.se, op.name, "int8: a stem with squeeze-excite");
        // Float32 weights and bias; the epilogue quantizes the real value: *1/scale + zp.
        W.w = ws.add(fname + "_w", {c16, cin, k, k}, stem_float_layout(a.weight.data, cout, cin, k),
                     op.name + " weight (float32 stem)");
        W.add = ws.add(fname + "_b", {c16}, padded(a.bias->data, c16, 0.0f), op.name + " bias");
        return W;
    }
    if (a.groups == 1) {
        W.groups = (cin + kDot - 1) / kDot;
        W.w = ws.add_i8(fname + "_w",
                        {kDot, kWeightBlock, W.groups * k * k, (cout + kWeightBlock - 1) / kWeightBlock},
                        dense_int8_layout(q, cout, cin, k, W.groups), op.name + " weight (int8)");
    } else {
        W.w = ws.add(fname + "_w", {padded_channels(cout), k, k}, depthwise_int16_layout(q, cout, k),
                     op.name + " weight (int16 values)");
    }
    const QuantParams &in = quant_of(src, op.name);
    const int in_zs = stored_zero(in, p.act_offset);
    const Requant r = a.se ? dequant_params(q, a.bias->data, in, in_zs)
                           : requant_params(q, a.bias->data, in, in_zs, qout, p.act_offset);
    const std::string role = a.se ? " dequantization" : " requantization";
    // Padded channels: acc 0 -> real zero (the stored zero, or 0 before SE).
    const float zero = a.se ? 0.0f : float(stored_zero(qout, p.act_offset));
    W.mul = ws.add(fname + "_mul", {c16}, padded(r.mul, c16, 0.0f), op.name + role + " multiplier");
    W.add = ws.add(fname + "_add", {c16}, padded(r.add, c16, zero), op.name + role + " offset");
    if (a.se) W.se = add_squeeze_excite_weights(ws, op, *a.se, cout, fname);
    return W;
}

// The head: int8 linear over the quantized pooled means, (4, 16, F4 / 4, K16 / 16).
OpWeights add_head_weights(LoweredPipeline &p, const Op &op, const std::string &fname,
                           const Value &src) {
    const LinearAttrs &l = op.as<LinearAttrs>();
    const int K = int(l.weight.shape.empty() ? 0 : l.weight.dim(0)), F = src.c;
    expect(l.weight.shape == Shape{K, F}, op.name, "linear weight " + shape_str(l.weight.shape));
    expect(l.bias.numel() == K, op.name, "linear bias size");
    expect(l.pooled_quant.has_value(), op.name, "no int8 quantization of the pooled features");
    const QuantRows q = quantize_rows(l.weight.data, K, F);
    OpWeights W;
    W.groups = (F + kDot - 1) / kDot;
    W.w = p.weights.add_i8(fname + "_w", {kDot, kWeightBlock, W.groups, (K + kWeightBlock - 1) / kWeightBlock},
                           dense_int8_layout(q, K, F, 1, W.groups), op.name + " linear.weight (int8)");
    const QuantParams &pq = *l.pooled_quant;
    const Requant r = dequant_params(q, l.bias.data, pq, stored_zero(pq, p.act_offset));
    W.mul = p.weights.add(fname + "_mul", {K}, r.mul, op.name + " dequantization multiplier");
    W.add = p.weights.add(fname + "_add", {K}, r.add, op.name + " dequantization offset");
    return W;
}

// Real value -> stored code of `q`, saturated; `relu` clamps at real zero.
Expr quantize(Expr real, const QuantParams &q, bool relu, const LoweredPipeline &p) {
    const int lo = (relu ? q.zero_point : 0) + p.act_offset, hi = 255 + p.act_offset;
    Expr code = Halide::cast<int>(Halide::round(real * (1.0f / q.scale))) + (q.zero_point + p.act_offset);
    return Halide::cast(p.act_type, Halide::clamp(code, lo, hi));
}

// Accumulator -> stored code: round(acc * M + B), saturated (lower end real 0 with ReLU).
Expr requantize(Expr acc, Expr mul, Expr add, const QuantParams &out, bool relu,
                const LoweredPipeline &p) {
    const int lo = (relu ? out.zero_point : 0) + p.act_offset, hi = 255 + p.act_offset;
    Expr code = Halide::cast<int>(Halide::round(Halide::cast<float>(acc) * mul + add));
    return Halide::cast(p.act_type, Halide::clamp(code, lo, hi));
}

struct Chain {
    int current = -1;     // value id the next op reads
    Reader read;          // its stored codes (c, x, y, n)
    Func func;            // its Func (undefined while the image is current)
};

void lower_conv(LoweredPipeline &p, const Graph &g, const Op &op, const std::string &fname,
                const OpWeights &W, Chain &chain) {
    Halide::Var &c = p.c, &x = p.x, &y = p.y, &n = p.n;
    const Value &src = g.values.at(op.inputs[0]);
    const Value &dst = g.values.at(op.output);
    const Conv2dAttrs &a = op.as<Conv2dAttrs>();
    LoweredConv L;
    describe_conv(L, op, src, dst);
    L.from_image = (chain.current == g.input);
    L.stored_channels = padded_channels(L.cout);
    const QuantParams &qin = quant_of(src, op.name);
    const int zs = stored_zero(qin, p.act_offset);
    const Expr zs_code = Halide::cast(p.act_type, zs);
    const int s = a.stride, pd = a.pad, k = a.kernel, dl = a.dilation;  // dl > 1: --output-stride
    L.pre = Func(fname + "_conv");
    L.dot4 = !L.from_image && L.kind == ConvKind::Dense;

    if (L.from_image) {
        // The stem in float32 from the float32 image (see "Float32 stem"); its output quantized.
        expect(L.kind == ConvKind::Dense && dl == 1, op.name, "int8: a depthwise or dilated conv reading the image");
        L.padded = Halide::BoundaryConditions::constant_exterior(p.input, 0.0f, {{0, src.w}, {0, src.h}});
        L.r = RDom(0, src.c, 0, k, 0, k, fname + "_r");  // (ci, kx, ky)
        L.pre(c, x, y, n) = W.add({c});
        L.pre(c, x, y, n) += W.w({c, L.r.x, L.r.y, L.r.z}) *
                             L.padded(x * s + L.r.y - pd, y * s + L.r.z - pd, L.r.x, n);
    } else {
        Reader src_read = chain.read;
        if (pd > 0) {
            L.padded = Halide::BoundaryConditions::constant_exterior(
                chain.func, zs_code, {{Expr(), Expr()}, {0, src.w}, {0, src.h}});
            Func pf = L.padded;
            src_read = [pf](Expr cc, Expr xx, Expr yy, Expr nn) { return pf(cc, xx, yy, nn); };
        }
        if (L.kind == ConvKind::Dense) {
            // Input channels past Cin (a last partial 4-group) meet zero weights; the
            // producer computed them (padded_channels).
            const int G = W.groups;
            if (k == 1) {
                L.r = RDom(0, kDot, 0, G, fname + "_r");
                L.pre(c, x, y, n) = 0;
                L.pre(c, x, y, n) += Halide::cast<int>(src_read(L.r.x + kDot * L.r.y, x * s - pd, y * s - pd, n)) *
                                     Halide::cast<int>(W.w({L.r.x, c % kWeightBlock, L.r.y, c / kWeightBlock}));
            } else {
                L.r = RDom({{0, kDot}, {0, G}, {0, k}, {0, k}}, fname + "_r");
                L.pre(c, x, y, n) = 0;
                L.pre(c, x, y, n) +=
                    Halide::cast<int>(src_read(L.r.x + kDot * L.r.y, x * s + L.r.z * dl - pd, y * s + L.r.w * dl - pd, n)) *
                    Halide::cast<int>(W.w({L.r.x, c % kWeightBlock, L.r.y + G * (L.r.z + k * L.r.w), c / kWeightBlock}));
            }
        } else {
            Expr sum = 0;
            for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx)
                    sum = sum + Halide::cast<int>(W.w({c, kx, ky})) *
                                    Halide::cast<int>(src_read(c, x * s + kx * dl - pd, y * s + ky * dl - pd, n));
            L.pre(c, x, y, n) = sum;
        }
    }

    const QuantParams &qout = quant_of(dst, op.name);
    L.out = Func(fname);
    if (a.se) {
        L.dequant = Func(fname + "_dequant");
        L.dequant(c, x, y, n) = Halide::cast<float>(L.pre(c, x, y, n)) * W.mul({c}) + W.add({c});
        lower_squeeze_excite(p, L, L.dequant, W.se, fname);
        // The SE covers the real channels; padded ones (real zero) take the last scale.
        Expr scaled = L.dequant(c, x, y, n) * L.se_scale(Halide::min(c, L.cout - 1), n);
        L.out(c, x, y, n) = quantize(scaled, qout, a.relu, p);
    } else if (L.from_image) {
        L.out(c, x, y, n) = quantize(L.pre(c, x, y, n), qout, a.relu, p);
    } else {
        L.out(c, x, y, n) = requantize(L.pre(c, x, y, n), W.mul({c}), W.add({c}), qout, a.relu, p);
    }
    Func of = L.out;
    chain.read = [of](Expr cc, Expr xx, Expr yy, Expr nn) { return of(cc, xx, yy, nn); };
    chain.func = L.out;
    chain.current = op.output;
    p.convs.push_back(std::move(L));
}

void lower_head(LoweredPipeline &p, const Graph &g, const Op &op, size_t index,
                const std::string &fname, const OpWeights &W, Chain &chain) {
    Halide::Var &c = p.c, &n = p.n, &k = p.k;
    const Value &src = g.values.at(op.inputs[0]);
    LoweredHead &h = p.head;
    describe_head(h, op, src, index, g, chain.current);
    const QuantParams &qin = quant_of(src, op.name);
    const QuantParams &qp = *op.as<LinearAttrs>().pooled_quant;
    const int hw_count = src.h * src.w;
    h.hw = RDom(0, src.w, 0, src.h, fname + "_hw");
    h.pool = Func(fname + "_pool");
    h.pool(c, n) = 0;
    h.pool(c, n) += Halide::cast<int>(chain.read(c, h.hw.x, h.hw.y, n));
    // The mean as a real value, quantized. Features past F (a last partial 4-group) meet
    // zero weights; the last conv computed them (padded_channels).
    Expr mean = (Halide::cast<float>(h.pool(c, n)) * (1.0f / float(hw_count)) -
                 float(stored_zero(qin, p.act_offset))) * qin.scale;
    h.pooled = Func(fname + "_pooled");
    h.pooled(c, n) = quantize(mean, qp, false, p);
    h.rf = RDom(0, kDot, 0, W.groups, fname + "_rf");
    h.linear = Func(fname + "_linear");
    h.linear(k, n) = 0;
    h.linear(k, n) += Halide::cast<int>(h.pooled(h.rf.x + kDot * h.rf.y, n)) *
                      Halide::cast<int>(W.w({h.rf.x, k % kWeightBlock, h.rf.y, k / kWeightBlock}));
    h.logits = Func(fname + "_logits");
    h.logits(k, n) = Halide::cast<float>(h.linear(k, n)) * W.mul({k}) + W.add({k});
    p.output = h.logits;
    p.num_classes = h.classes;
    chain.current = op.output;
}

}  // namespace

bool is_int8_graph(const Graph &g) {
    return g.input >= 0 && g.input < int(g.values.size()) && g.values[g.input].quant.has_value();
}

Int8Coding int8_coding_for(const Halide::Target &target) {
    if (target.arch == Halide::Target::ARM) return {Halide::Int(8), -128};
    return {Halide::UInt(8), 0};
}

LoweredPipeline lower_int8(const Graph &g, const InputShape &shape, bool external_weights,
                           const Halide::Target &target) {
    LoweredPipeline p(external_weights);
    p.precision = Precision::Int8;
    const Int8Coding coding = int8_coding_for(target);
    p.act_type = coding.type;
    p.act_offset = coding.offset;
    declare_input(p, g, shape);

    // Pass 1: every weight tensor into the blobs.
    const std::vector<std::string> names = op_func_names(g);
    std::vector<OpWeights> weights;
    int current = g.input;
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        expect(op.inputs[0] == current, op.name,
               "not a chain (codegen takes one op reading the previous one's output)");
        const Value &src = g.values[op.inputs[0]];
        if (op.is<LinearAttrs>())
            weights.push_back(add_head_weights(p, op, names[i], src));
        else if (op.is<Conv2dAttrs>())
            weights.push_back(add_conv_weights(p, op, names[i], src, g.values[op.output], current == g.input));
        else
            expect(false, op.name, "unsupported op kind " + op_kind_name(op));
        current = op.output;
    }
    p.weights.finalize();

    // Pass 2: the Funcs.
    Chain chain;
    chain.current = g.input;
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        if (op.is<LinearAttrs>())
            lower_head(p, g, op, i, names[i], weights[i], chain);
        else
            lower_conv(p, g, op, names[i], weights[i], chain);
    }
    if (!g.features.empty()) {  // a backbone: feature maps (dequantized), no head
        expect(chain.current == g.output && !p.output.defined(), "(graph)",
               "a backbone graph must end in its last feature");
        lower_feature_outputs(p, g);
        return p;
    }
    expect(chain.current == g.output && p.output.defined(), "(graph)",
           "the graph must end in the pool+linear head");
    constrain_output(p);
    return p;
}

LoweredPipeline lower_any(const Graph &fused, const InputShape &shape, bool external_weights,
                          WeightsDType weights_dtype, const Halide::Target &target) {
    if (!is_int8_graph(fused)) return lower(fused, shape, external_weights, weights_dtype);
    if (weights_dtype != WeightsDType::F32)
        throw Error("--weights-dtype f16 applies to float32 models; int8 weights are int8 already");
    return lower_int8(fused, shape, external_weights, target);
}

}  // namespace m1c::codegen
