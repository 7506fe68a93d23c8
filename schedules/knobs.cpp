// The walk that applies per-op knobs with the templates. See knobs.h.
#include "knobs.h"

#include "core/error.h"
#include "templates_int8.h"

namespace m1c::schedules {

namespace {
// With fewer output rows than this, parallelise over (channel tiles x rows) instead.
constexpr int kParallelRowsMin = 14;
}  // namespace

Halide::Func tiled_func(codegen::LoweredConv &L) {
    if (!L.has_se) return L.out;
    return L.dequant.defined() ? L.dequant : L.pre.in();  // int8: the float pre-activation
}

bool can_compute_inside(const codegen::LoweredPipeline &p, size_t i, const std::vector<OpKnobs> &k) {
    using codegen::ConvKind;
    return i + 1 < p.convs.size() && p.convs[i].kind == ConvKind::Depthwise && !p.convs[i].has_se &&
           p.convs[i + 1].kind == ConvKind::Dense && p.convs[i + 1].kernel == 1 && k[i + 1].dense.rows;
}

std::vector<OpKnobs> default_knobs(const codegen::LoweredPipeline &p, const CpuParams &cp) {
    std::vector<OpKnobs> k(p.convs.size());
    for (size_t i = 0; i < p.convs.size(); ++i) {
        const auto &L = p.convs[i];
        if (L.kind != codegen::ConvKind::Dense) continue;
        const ConvTile t = choose_conv_tile(L.channels(), L.out_w, cp);
        k[i].dense.vec = t.vec;
        k[i].dense.cv = t.tc / t.vec;
        k[i].dense.tx = t.tx;
        // Single-threaded (firmware): always by rows, so that every depthwise op feeding a
        // pointwise one is computed a row at a time inside it (small intermediates).
        k[i].dense.rows = cp.single_threaded || L.out_h >= kParallelRowsMin;
    }
    for (size_t i = 0; i < p.convs.size(); ++i)
        if (p.convs[i].kind == codegen::ConvKind::Depthwise)
            k[i].dw = default_depthwise_knobs(p.convs[i], can_compute_inside(p, i, k), cp);
    return k;
}

std::vector<std::string> apply_knobs(codegen::LoweredPipeline &p, const CpuParams &cp,
                                     const std::vector<OpKnobs> &knobs) {
    using codegen::ConvKind;
    if (knobs.size() != p.convs.size()) throw Error("schedule: knobs for a different pipeline");
    const bool int8 = p.precision == codegen::Precision::Int8;
    std::vector<std::string> ops;
    for (size_t i = 0; i < p.convs.size(); ++i) {
        auto &L = p.convs[i];
        std::string line;
        if (L.kind == ConvKind::Dense) {
            if (L.from_image && L.padded.defined() && !cp.single_threaded)
                line = schedule_padded_image(p, L, cp) + "; ";
            line += L.dot4 ? schedule_dense_int8(p, L, tiled_func(L), L.pre, knobs[i].dense, cp)
                           : schedule_dense(p, L, tiled_func(L), L.pre, knobs[i].dense, cp);
            if (L.has_se) {
                line += "; " + schedule_squeeze_excite(p, L, cp);
                schedule_elementwise_root(p, L.out, L.channels(), cp);
                align_channels(L.out, L);
            }
        } else if (L.has_se) {
            line = schedule_depthwise_root(p, L, L.pre, knobs[i].dw, cp);
            line += "; " + schedule_squeeze_excite(p, L, cp);
            schedule_elementwise_root(p, L.out, L.channels(), cp);
            align_channels(L.out, L);
        } else {
            const bool inside = knobs[i].dw.inside && can_compute_inside(p, i, knobs);
            line = inside ? schedule_depthwise_at(p, L, L.out, tiled_func(p.convs[i + 1]), p.y,
                                                  knobs[i].dw, cp)
                          : schedule_depthwise_root(p, L, L.out, knobs[i].dw, cp);
        }
        ops.push_back(L.name + ": " + line);
    }
    if (!p.features.empty()) {  // a backbone build: feature outputs instead of the head
        for (const std::string &line : schedule_feature_outputs(p, cp)) ops.push_back(line);
        return ops;
    }
    ops.push_back(p.head.name + ": " + (int8 ? schedule_head_int8(p, p.head, cp)
                                             : schedule_head(p, p.head, cp)));
    return ops;
}

}  // namespace m1c::schedules
