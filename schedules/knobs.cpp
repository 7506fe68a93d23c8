// The walk that applies per-op knobs with the templates. See knobs.h.
#include "knobs.h"

#include <algorithm>

#include "core/error.h"
#include "templates_int8.h"

namespace m1c::schedules {

namespace {
// With fewer output rows than this, parallelise over (channel tiles x rows) instead.
constexpr int kParallelRowsMin = 14;

// AVX2 (16 vector registers) only, what `m1c tune` found on S1
// (schedules/tuned/amd-epyc-avx2-s1.json, confirmed side by side with the default):
//  - depthwise convs with outputs of 14x14 and smaller, and 28x28 at stride 1, computed whole
//    at root (rows in parallel), two vectors of channels at a time, no pixel unroll, instead
//    of row by row inside their pointwise consumer: 4-8% per unit;
//  - the stem parallel over (channel tiles x rows): its 16-channel weights stay in registers
//    over all rows, 6% of the stem.
// Not on AVX-512 or ARM (their tuned records keep the defaults), nor single-threaded
// (firmware: the row-by-row depthwise keeps the workspace small), nor int8 (not tuned).
bool avx2_tuned(const codegen::LoweredPipeline &p, const CpuParams &cp) {
    return cp.name == "x86-avx2" && !cp.single_threaded && p.precision == codegen::Precision::F32;
}

bool avx2_depthwise_at_root(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                            const CpuParams &cp) {
    return avx2_tuned(p, cp) && (L.out_w <= 14 || (L.out_w <= 28 && L.stride == 1));
}
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
        const bool avx2_stem = L.from_image && avx2_tuned(p, cp);
        k[i].dense.rows = cp.single_threaded || (L.out_h >= kParallelRowsMin && !avx2_stem);
    }
    for (size_t i = 0; i < p.convs.size(); ++i) {
        const auto &L = p.convs[i];
        if (L.kind != codegen::ConvKind::Depthwise) continue;
        const bool inside = can_compute_inside(p, i, k);
        if (inside && avx2_depthwise_at_root(p, L, cp)) {
            k[i].dw = default_depthwise_knobs(L, false, cp);
            k[i].dw.ux = 1;
            while (k[i].dw.lanes * 2 <= std::min(2 * cp.vector_floats, L.channels())) k[i].dw.lanes *= 2;
        } else {
            k[i].dw = default_depthwise_knobs(L, inside, cp);
        }
    }
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
