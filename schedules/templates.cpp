// The per-op schedule templates. See templates.h.
#include "templates.h"

#include <cmath>
#include <sstream>

namespace m1c::schedules {

using Halide::Func;
using Halide::TailStrategy;
using Halide::Var;
using Halide::VarOrRVar;

namespace {

// Pure definitions may recompute a few elements (ShiftInwards keeps every tile inside the
// buffer); updates must not, so they get GuardWithIf unless the split is exact.
TailStrategy tail_for(int extent, int factor, bool pure) {
    if (extent % factor == 0) return TailStrategy::RoundUp;
    if (pure && extent >= factor) return TailStrategy::ShiftInwards;
    return TailStrategy::GuardWithIf;
}

void vectorize_pure(Func f, const Var &v, int extent, int lanes) {
    if (lanes > 1) f.vectorize(v, lanes, tail_for(extent, lanes, true));
}

void vectorize_update(Halide::Stage s, const Var &v, int extent, int lanes) {
    if (lanes <= 1) return;
    Var vi(v.name() + "_vi");
    s.split(v, v, vi, lanes, tail_for(extent, lanes, false)).vectorize(vi);
}

}  // namespace

int channel_lanes(int extent, const CpuParams &cp) {
    int v = cp.vector_floats;
    while (v > 1 && v > extent) v /= 2;
    return v;
}

ConvTile choose_conv_tile(int channels, int width, const CpuParams &cp) {
    ConvTile best;
    best.vec = channel_lanes(channels, cp);
    best.tc = best.vec;
    best.tx = 1;
    double best_score = -1;
    for (int cv = 1; cv <= 8; ++cv) {
        const int tc = cv * best.vec;
        if (tc > channels) break;
        for (int tx = 1; tx <= std::min(width, 8); ++tx) {
            // Registers: the accumulators, the cv weight vectors of one input channel and
            // the broadcast input value. More spills an accumulator every iteration.
            if (cv * tx + cv + cp.broadcast_registers > cp.vector_registers) continue;
            // Useful work / work done (ShiftInwards recomputes the overlap of the last tile)
            // times loads saved per FMA by the register block.
            double eff_c = double(channels) / (std::ceil(double(channels) / tc) * tc);
            double eff_x = double(width) / (std::ceil(double(width) / tx) * tx);
            double intensity = double(cv * tx) / double(cv + tx);
            double score = eff_c * eff_x * intensity;
            if (score > best_score + 1e-9) {
                best_score = score;
                best.tc = tc;
                best.tx = tx;
            }
        }
    }
    return best;
}

std::string schedule_dense(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                           Func tiled, Func acc, bool parallel_rows, const CpuParams &cp) {
    const ConvTile t = choose_conv_tile(L.cout, L.out_w, cp);
    Var co("co"), ci("ci"), xo("xo"), xi("xi"), par("par");
    tiled.compute_root()
        .split(p.c, co, ci, t.tc, tail_for(L.cout, t.tc, true))
        .split(p.x, xo, xi, t.tx, tail_for(L.out_w, t.tx, true))
        .reorder(ci, xi, xo, co, p.y, p.n);
    if (t.vec > 1) tiled.vectorize(ci, t.vec);
    tiled.unroll(ci).unroll(xi);
    if (parallel_rows)
        tiled.parallel(p.y);
    else
        tiled.fuse(co, p.y, par).parallel(par);

    acc.compute_at(tiled, xo);
    if (t.vec > 1) acc.vectorize(p.c, t.vec);
    acc.unroll(p.c).unroll(p.x);
    Halide::Stage u = acc.update();
    std::vector<VarOrRVar> order{p.c, p.x};
    for (int i = 0; i < L.r.dimensions(); ++i) order.push_back(L.r[i]);
    order.push_back(p.y);
    order.push_back(p.n);
    u.reorder(order);
    if (t.vec > 1) u.vectorize(p.c, t.vec);
    u.unroll(p.c).unroll(p.x);
    if (L.r.dimensions() == 3 && L.cin <= 4) u.unroll(L.r.x);  // the stem's 3 input channels

    std::ostringstream s;
    s << "dense: tile " << t.tc << " channels x " << t.tx << " pixels in registers (vector "
      << t.vec << "), " << (parallel_rows ? "rows" : "channel tiles x rows") << " in parallel";
    return s.str();
}

std::string schedule_depthwise_at(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                                  Func f, Func consumer, const Var &at, const CpuParams &cp) {
    const int lanes = channel_lanes(L.cout, cp);
    f.compute_at(consumer, at);
    vectorize_pure(f, p.c, L.cout, lanes);
    return "depthwise: computed per output row inside the next op's row loop, vector " +
           std::to_string(lanes);
}

std::string schedule_depthwise_root(const codegen::LoweredPipeline &p,
                                    const codegen::LoweredConv &L, Func f, const CpuParams &cp) {
    const int lanes = channel_lanes(L.cout, cp);
    f.compute_root();
    vectorize_pure(f, p.c, L.cout, lanes);
    f.parallel(p.y);
    return "depthwise: at root, rows in parallel, vector " + std::to_string(lanes);
}

void schedule_elementwise_root(const codegen::LoweredPipeline &p, Func f, int channels,
                               const CpuParams &cp) {
    f.compute_root();
    vectorize_pure(f, p.c, channels, channel_lanes(channels, cp));
    f.parallel(p.y);
}

std::string schedule_squeeze_excite(const codegen::LoweredPipeline &p,
                                    codegen::LoweredConv &L, const CpuParams &cp) {
    const int C = L.cout, R = L.se_channels;
    const int lc = channel_lanes(C, cp), lr = channel_lanes(R, cp);

    L.se_sum.compute_root();
    vectorize_pure(L.se_sum, p.c, C, lc);
    Halide::Stage s = L.se_sum.update();
    s.reorder(p.c, L.se_hw.x, L.se_hw.y, p.n);
    vectorize_update(s, p.c, C, lc);

    L.se_reduce.compute_root();
    vectorize_pure(L.se_reduce, p.c, R, lr);
    Halide::Stage r = L.se_reduce.update();
    r.reorder(p.c, L.se_rc, p.n);
    vectorize_update(r, p.c, R, lr);

    L.se_expand.compute_root();
    vectorize_pure(L.se_expand, p.c, C, lc);
    Halide::Stage e = L.se_expand.update();
    e.reorder(p.c, L.se_rj, p.n);
    vectorize_update(e, p.c, C, lc);

    L.se_scale.compute_root();
    vectorize_pure(L.se_scale, p.c, C, lc);
    return "squeeze-excite at root (vectors " + std::to_string(lc) + "/" + std::to_string(lr) +
           "), scaled output at root";
}

std::string schedule_head(const codegen::LoweredPipeline &p, codegen::LoweredHead &h,
                          const CpuParams &cp) {
    const int F = h.features, K = h.classes;
    const int lf = channel_lanes(F, cp), lk = channel_lanes(K, cp);

    h.pool.compute_root();
    vectorize_pure(h.pool, p.c, F, lf);
    Halide::Stage s = h.pool.update();
    s.reorder(p.c, h.hw.x, h.hw.y, p.n);
    vectorize_update(s, p.c, F, lf);

    // Logits: chunks of `chunk` classes in parallel, each a few vector accumulators (the
    // linear computed per chunk) over all features.
    int u = 1;
    for (int cand = 4; cand >= 1; --cand)
        if (lk * cand <= K && (K % (lk * cand) == 0 || cand == 1 || K >= 8 * lk * cand)) {
            u = cand;
            break;
        }
    const int chunk = lk * u;
    Var ko("ko"), ki("ki");
    h.logits.split(p.k, ko, ki, chunk, tail_for(K, chunk, true)).parallel(ko);
    if (lk > 1) h.logits.vectorize(ki, lk);
    h.linear.compute_at(h.logits, ko);
    if (lk > 1) h.linear.vectorize(p.k, lk);
    h.linear.unroll(p.k);
    Halide::Stage l = h.linear.update();
    l.reorder(p.k, h.rf, p.n);
    if (lk > 1) l.vectorize(p.k, lk);
    l.unroll(p.k);
    return "head: pool at root; linear in chunks of " + std::to_string(chunk) +
           " classes in parallel, vector " + std::to_string(lk);
}

}  // namespace m1c::schedules
