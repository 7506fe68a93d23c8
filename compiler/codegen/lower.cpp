// The algorithm: the fused graph as Halide Funcs, one per fused op. No scheduling here
// (schedules/ does that); exact math only (sigmoid via exp, sums in float32).
#include <cctype>
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "codegen/lowered.h"
#include "core/error.h"

namespace m1c::codegen {

using Halide::Expr;
using Halide::Func;
using Halide::RDom;

namespace {

std::string c_name(const std::string &s) {
    std::string out;
    for (char ch : s) out += (std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
    return out;
}

// Reads of the previous activation: f(c, x, y, n) whatever its memory layout.
using Reader = std::function<Expr(Expr, Expr, Expr, Expr)>;

void expect(bool ok, const std::string &op, const std::string &what) {
    if (!ok) throw Error("codegen: op " + op + ": " + what);
}

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

// torch [Rows, Cols(, 1, 1)] -> extents (Rows, Cols), Rows innermost (a transpose).
std::vector<float> transposed(const Tensor &w, int rows, int cols) {
    std::vector<float> out(size_t(rows) * cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) out[size_t(c) * rows + r] = w.data[size_t(r) * cols + c];
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
    WeightRef w, b, se_rw, se_rb, se_ew, se_eb;
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
    if (a.se) {
        const SqueezeExciteAttrs &se = *a.se;
        const int C = cout, R = int(se.reduce_weight.shape.empty() ? 0 : se.reduce_weight.dim(0));
        expect(R > 0 && se.reduce_weight.numel() == int64_t(R) * C && se.reduce_bias.numel() == R &&
                   se.expand_weight.numel() == int64_t(C) * R && se.expand_bias.numel() == C,
               op.name, "squeeze-excite weight shapes");
        W.se_rw = ws.add(fname + "_se_rw", {R, C}, transposed(se.reduce_weight, R, C),
                         op.name + " se.reduce.weight");
        W.se_rb = ws.add(fname + "_se_rb", {R}, se.reduce_bias.data, op.name + " se.reduce.bias");
        W.se_ew = ws.add(fname + "_se_ew", {C, R}, transposed(se.expand_weight, C, R),
                         op.name + " se.expand.weight");
        W.se_eb = ws.add(fname + "_se_eb", {C}, se.expand_bias.data, op.name + " se.expand.bias");
    }
    return W;
}

}  // namespace

// ---------------------------------------------------------------------------------------
Expr WeightRef::operator()(const std::vector<Expr> &index) const {
    Expr flat = 0;
    for (size_t i = index.size(); i-- > 0;) flat = flat * extents[i] + index[i];
    return blob(Expr(static_cast<int>(offset)) + flat);
}

WeightStore::WeightStore(bool external, WeightsDType dtype) : external_(external), dtype_(dtype) {
    if (external_ && dtype_ != WeightsDType::F32)
        throw Error("codegen: float16 weights are supported with embedded weights only");
    if (external_) input_ = Halide::ImageParam(Halide::Float(32), 1, "weights");
}

WeightRef WeightStore::add(const std::string &name, std::vector<int> extents,
                           std::vector<float> values, const std::string &source) {
    int64_t count = 1;
    for (int e : extents) count *= e;
    if (count != int64_t(values.size()))
        throw Error("codegen: weight " + name + ": " + std::to_string(values.size()) +
                    " values for " + std::to_string(count) + " elements");
    // 16-float (64-byte) aligned slices: vector loads of each tensor start aligned.
    const int64_t offset = (int64_t(payload_.size()) + 15) / 16 * 16;
    if (offset + count >= (int64_t(1) << 31))
        throw Error("codegen: weights beyond 2^31 floats are not supported");
    payload_.resize(size_t(offset), 0.0f);
    payload_.insert(payload_.end(), values.begin(), values.end());
    WeightRef ref;
    ref.name = name;
    ref.extents = extents;
    ref.offset = offset;
    ref.blob = blob_;
    total_floats_ += count;
    entries_.push_back(Entry{name, source, std::move(extents), offset, count});
    return ref;
}

void WeightStore::finalize() {
    Halide::Var i("i");
    blob_floats_ = int64_t(payload_.size());
    const int size = static_cast<int>(std::max<int64_t>(blob_floats_, 1));
    if (external_) {
        input_.dim(0).set_bounds(0, size).set_stride(1);
        blob_(i) = input_(i);
    } else if (dtype_ == WeightsDType::F16) {
        // Stored as float16, read as float32: the cast is where the pipeline loads a weight.
        for (const Entry &e : entries_)
            for (int64_t j = 0; j < e.floats; ++j)
                if (!(std::fabs(payload_[size_t(e.offset + j)]) <= 65504.0f))
                    throw Error("--weights-dtype f16: " + e.source + " holds " +
                                std::to_string(payload_[size_t(e.offset + j)]) +
                                ", outside float16's range (|w| <= 65504)");
        // The float16 bits (rounded to nearest even), widened in a few vector ops that are
        // exact for every finite float16: the magnitude bits moved into float32's exponent
        // and mantissa fields give the value times 2^-112 (subnormals included), the multiply
        // rescales it, the sign goes back on. (Halide 14's own float16 cast is several times
        // as many integer ops on x86 and ARM.)
        embedded_f16_ = Halide::Buffer<uint16_t>(size, "m1c_weights_f16");
        for (int64_t j = 0; j < blob_floats_; ++j)
            embedded_f16_(int(j)) = Halide::float16_t(payload_[size_t(j)]).to_bits();
        Halide::Expr h = Halide::cast<uint32_t>(embedded_f16_(i));
        Halide::Expr magnitude = Halide::reinterpret<float>((h & 0x7fffu) << 13) * 0x1p112f;
        blob_(i) = Halide::reinterpret<float>(Halide::reinterpret<uint32_t>(magnitude) |
                                              ((h & 0x8000u) << 16));
        std::vector<float>().swap(payload_);
    } else {
        embedded_ = Halide::Buffer<float>(size, "m1c_weights");
        std::copy(payload_.begin(), payload_.end(), embedded_.data());
        blob_(i) = embedded_(i);
        std::vector<float>().swap(payload_);  // the Buffer holds them now
    }
}

std::vector<Halide::Argument> LoweredPipeline::arguments() const {
    std::vector<Halide::Argument> args{input};
    if (weights.external()) args.push_back(weights.input());
    return args;
}

// ---------------------------------------------------------------------------------------
LoweredPipeline lower(const Graph &g, const InputShape &shape, bool external_weights,
                      WeightsDType weights_dtype) {
    LoweredPipeline p(external_weights, weights_dtype);
    p.shape = shape;
    Halide::Var &c = p.c, &x = p.x, &y = p.y, &n = p.n, &k = p.k;

    if (g.input < 0 || g.output < 0 || g.ops.empty()) throw Error("codegen: empty graph");
    const Value &in = g.values.at(g.input);
    if (in.n != shape.batch || in.c != 3 || in.h != shape.height || in.w != shape.width)
        throw Error("codegen: graph input [" + std::to_string(in.n) + ", " + std::to_string(in.c) +
                    ", " + std::to_string(in.h) + ", " + std::to_string(in.w) +
                    "] does not match the requested shape " + std::to_string(shape.batch) + "x3x" +
                    std::to_string(shape.height) + "x" + std::to_string(shape.width));

    // The NCHW input: Halide dims (x, y, c, n), dense, fixed shape.
    p.input = Halide::ImageParam(Halide::Float(32), 4, "input");
    {
        int W = in.w, H = in.h, C = in.c, N = in.n;
        p.input.dim(0).set_bounds(0, W).set_stride(1);
        p.input.dim(1).set_bounds(0, H).set_stride(W);
        p.input.dim(2).set_bounds(0, C).set_stride(W * H);
        p.input.dim(3).set_bounds(0, N).set_stride(W * H * C);
    }

    int current = g.input;
    Halide::ImageParam image = p.input;
    Reader read = [image](Expr cc, Expr xx, Expr yy, Expr nn) { return image(xx, yy, cc, nn); };
    Func current_func;  // undefined while the image is the current value

    // Pass 1: names (unique, as Halide wants) and every weight tensor into the blob.
    std::set<std::string> used_names;
    std::vector<std::string> names;
    std::vector<OpWeights> weights;
    for (size_t i = 0; i < g.ops.size(); ++i) {
        const Op &op = g.ops[i];
        std::string fname = c_name(op.name.empty() ? "op" + std::to_string(i) : op.name);
        if (!used_names.insert(fname).second) {
            fname += "_" + std::to_string(i);
            used_names.insert(fname);
        }
        expect(op.inputs.size() == 1 && op.inputs[0] >= 0 && op.inputs[0] < int(g.values.size()) &&
                   op.output >= 0 && op.output < int(g.values.size()),
               op.name, "bad value ids");
        weights.push_back(add_op_weights(p.weights, op, fname, g.values[op.inputs[0]], g.values[op.output]));
        names.push_back(fname);
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
            const LinearAttrs &l = op.as<LinearAttrs>();
            expect(l.pooled_input, op.name, "linear without the global average pool");
            expect(i + 1 == g.ops.size() && op.output == g.output, op.name,
                   "the head must be the last op");
            expect(current != g.input, op.name, "a head reading the image directly");
            LoweredHead &h = p.head;
            h.name = op.name;
            h.features = src.c;
            h.classes = int(l.weight.dim(0));
            h.batch = src.n;
            h.in_h = src.h;
            h.in_w = src.w;
            expect(l.weight.shape == Shape{h.classes, h.features}, op.name,
                   "linear weight " + shape_str(l.weight.shape) + " for " +
                       std::to_string(h.features) + " features");
            expect(l.bias.numel() == h.classes, op.name, "linear bias size");
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

        expect(op.is<Conv2dAttrs>(), op.name, "unsupported op kind " + op_kind_name(op));
        const Conv2dAttrs &a = op.as<Conv2dAttrs>();
        expect(a.bias.has_value(), op.name, "conv without bias");
        LoweredConv L;
        L.name = op.name;
        L.from_image = (current == g.input);
        L.cin = src.c;
        L.cout = dst.c;
        L.kernel = a.kernel;
        L.stride = a.stride;
        L.pad = a.pad;
        L.batch = src.n;
        L.in_h = src.h;
        L.in_w = src.w;
        L.out_h = dst.h;
        L.out_w = dst.w;
        L.relu = a.relu;
        expect(a.kernel >= 1 && a.stride >= 1 && a.pad >= 0, op.name, "bad kernel/stride/pad");
        expect(dst.h == (src.h + 2 * a.pad - a.kernel) / a.stride + 1 &&
                   dst.w == (src.w + 2 * a.pad - a.kernel) / a.stride + 1 && dst.n == src.n,
               op.name, "output shape disagrees with kernel/stride/pad");
        if (a.groups == 1) {
            L.kind = ConvKind::Dense;
            expect(a.weight.shape == Shape{L.cout, L.cin, a.kernel, a.kernel}, op.name,
                   "weight shape " + shape_str(a.weight.shape));
        } else {
            expect(a.groups == L.cin && L.cin == L.cout, op.name,
                   "groups = " + std::to_string(a.groups) +
                       " (only 1 and depthwise are supported)");
            L.kind = ConvKind::Depthwise;
            expect(a.weight.shape == Shape{L.cout, 1, a.kernel, a.kernel}, op.name,
                   "weight shape " + shape_str(a.weight.shape));
        }
        expect(a.bias->numel() == L.cout, op.name, "bias size");
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
        const int s = a.stride, pd = a.pad, kk = a.kernel;
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
                                     src_read(L.r.x, x * s + L.r.y - pd, y * s + L.r.z - pd, n);
            }
        } else {
            Expr sum = bias({c});
            for (int ky = 0; ky < kk; ++ky)
                for (int kx = 0; kx < kk; ++kx)
                    sum = sum + w({c, kx, ky}) * src_read(c, x * s + kx - pd, y * s + ky - pd, n);
            L.pre(c, x, y, n) = sum;
        }

        Expr pre_val = L.pre(c, x, y, n);
        if (a.se) {
            const SqueezeExciteAttrs &se = *a.se;
            const int C = L.cout, R = int(se.reduce_weight.dim(0));
            expect(se.reduce_weight.numel() == int64_t(R) * C && se.reduce_bias.numel() == R &&
                       se.expand_weight.numel() == int64_t(C) * R && se.expand_bias.numel() == C,
                   op.name, "squeeze-excite weight shapes");
            L.has_se = true;
            L.se_channels = R;
            const WeightRef &rw = W.se_rw, &rb = W.se_rb, &ew = W.se_ew, &eb = W.se_eb;
            L.se_hw = RDom(0, L.out_w, 0, L.out_h, fname + "_se_hw");
            L.se_sum = Func(fname + "_se_sum");
            L.se_sum(c, n) = 0.0f;
            L.se_sum(c, n) += L.pre(c, L.se_hw.x, L.se_hw.y, n);
            L.se_rc = RDom(0, C, fname + "_se_rc");
            L.se_reduce = Func(fname + "_se_reduce");
            L.se_reduce(c, n) = rb({c});
            L.se_reduce(c, n) += rw({c, L.se_rc}) * (L.se_sum(L.se_rc, n) / float(L.out_h * L.out_w));
            L.se_rj = RDom(0, R, fname + "_se_rj");
            L.se_expand = Func(fname + "_se_expand");
            L.se_expand(c, n) = eb({c});
            L.se_expand(c, n) += ew({c, L.se_rj}) * Halide::max(L.se_reduce(L.se_rj, n), 0.0f);
            L.se_scale = Func(fname + "_se_scale");
            L.se_scale(c, n) = 1.0f / (1.0f + Halide::exp(-L.se_expand(c, n)));
            pre_val = pre_val * L.se_scale(c, n);
        }
        L.out = Func(fname);
        L.out(c, x, y, n) = a.relu ? Halide::max(pre_val, 0.0f) : pre_val;

        Func of = L.out;
        read = [of](Expr cc, Expr xx, Expr yy, Expr nn) { return of(cc, xx, yy, nn); };
        current_func = L.out;
        current = op.output;
        p.convs.push_back(std::move(L));
    }
    expect(current == g.output && p.output.defined(), "(graph)",
           "the graph must end in the pool+linear head");

    const int K = p.num_classes, N = shape.batch;
    p.output.output_buffer().dim(0).set_bounds(0, K).set_stride(1);
    p.output.output_buffer().dim(1).set_bounds(0, N).set_stride(K);
    return p;
}

}  // namespace m1c::codegen
