// Backbone builds: the feature maps as pipeline outputs. Each is a copy of a conv op's
// output (channels innermost inside the pipeline) into the NCHW layout PyTorch returns,
// the copy's buffer constrained to the exact dense shape, so callers pass plain arrays.
// In int8 pipelines the copy dequantizes the op's stored 8-bit codes: the outputs are
// float32 either way (what a detector or segmentation head takes).
#include "codegen/lower_common.h"
#include "codegen/lowered.h"
#include "core/error.h"

namespace m1c::codegen {

std::vector<Halide::Func> LoweredPipeline::outputs() const {
    if (features.empty()) return {output};
    std::vector<Halide::Func> out;
    for (const LoweredFeature &f : features) out.push_back(f.out);
    return out;
}

Halide::Expr real_value(const LoweredPipeline &p, const LoweredConv &L, const Value &v) {
    Halide::Expr e = L.out(p.c, p.x, p.y, p.n);
    if (p.precision == Precision::F32) return e;
    expect(v.quant.has_value(), L.name, "an int8 op output without its quantization");
    const int zs = v.quant->zero_point + p.act_offset;
    return (Halide::cast<float>(e) - float(zs)) * v.quant->scale;
}

void lower_feature_outputs(LoweredPipeline &p, const Graph &g) {
    expect(g.features.size() == g.feature_names.size() && !g.features.empty(), "(graph)",
           "feature outputs without names");
    std::vector<int> conv_of_value(g.values.size(), -1);
    int conv = 0;
    for (const Op &op : g.ops)
        if (op.is<Conv2dAttrs>()) conv_of_value.at(op.output) = conv++;
    for (size_t i = 0; i < g.features.size(); ++i) {
        const int id = g.features[i];
        expect(id >= 0 && id < int(g.values.size()) && conv_of_value[id] >= 0, g.feature_names[i],
               "a feature output must be written by a conv op");
        const Value &v = g.values[id];
        LoweredFeature f;
        f.name = g.feature_names[i];
        f.conv = conv_of_value[id];
        f.n = v.n;
        f.c = v.c;
        f.h = v.h;
        f.w = v.w;
        const LoweredConv &L = p.convs.at(size_t(f.conv));
        expect(L.cout == v.c && L.out_h == v.h && L.out_w == v.w, f.name, "shape disagrees with its conv");
        f.out = Halide::Func("feature_" + f.name);
        f.out(p.x, p.y, p.c, p.n) = real_value(p, L, v);
        Halide::OutputImageParam b = f.out.output_buffer();
        b.dim(0).set_bounds(0, f.w).set_stride(1);
        b.dim(1).set_bounds(0, f.h).set_stride(f.w);
        b.dim(2).set_bounds(0, f.c).set_stride(f.w * f.h);
        b.dim(3).set_bounds(0, f.n).set_stride(f.w * f.h * f.c);
        p.features.push_back(std::move(f));
    }
}

}  // namespace m1c::codegen
