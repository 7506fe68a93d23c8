// The per-op schedule templates. See templates.h.
#include "templates.h"

#include <cmath>
#include <sstream>

namespace m1c::schedules {

using Halide::Func;
using Halide::TailStrategy;
using Halide::Var;
using Halide::VarOrRVar;

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

void align_channels(Func f, const codegen::LoweredConv &L) {
    if (L.stored_channels > 0) f.align_bounds(f.args()[0], codegen::kWeightBlock);
}

int channel_lanes(int extent, const CpuParams &cp) {
    int v = cp.vector_floats;
    while (v > 1 && v > extent) v /= 2;
    return v;
}

ConvTile choose_conv_tile(int channels, int width, const CpuParams &cp) {
    // Register tiles of cv vectors x tx pixels. What they must do, in order:
    //  - fit: cv * tx accumulators + the cv weight vectors of one input channel + the
    //    broadcast input value, else the inner loop spills (measured: a 4x7 AVX-512 tile,
    //    33 registers with LLVM's register broadcast, spilled an accumulator per iteration);
    //  - waste nothing: the last tile of a row or of the channels is shifted inwards and
    //    recomputes its overlap (widths here are multiples of 7: tiles of 6 or 8 pixels cost
    //    5-15% on S2/S4, measured);
    //  - load little enough: kMinIntensity FMAs per load keeps two FMA ports fed by two load
    //    ports (the 4x7 .. 1x14 tiles measured alike on a 1-FMA-port Zen 4; 2-port CPUs
    //    need the intensity).
    // Among equals, more accumulators (the tile's fixed costs spread over more FMAs).
    constexpr double kMinIntensity = 1.5;
    constexpr int kMaxPixels = 16;
    ConvTile best;
    best.vec = channel_lanes(channels, cp);
    best.tc = best.vec;
    best.tx = 1;
    double best_score = -1;
    int best_acc = 0;
    for (int cv = 1; cv <= 8; ++cv) {
        const int tc = cv * best.vec;
        if (tc > channels) break;
        // Whole blocks of the blocked weight layout (or parts of one): every vector of the
        // tile then reads one contiguous stream (codegen::kWeightBlock).
        if (tc % codegen::kWeightBlock != 0 && codegen::kWeightBlock % tc != 0) continue;
        for (int tx = 1; tx <= std::min(width, kMaxPixels); ++tx) {
            if (cv * tx + cv + cp.broadcast_registers > cp.vector_registers) continue;
            const double eff_c = double(channels) / (std::ceil(double(channels) / tc) * tc);
            const double eff_x = double(width) / (std::ceil(double(width) / tx) * tx);
            const double intensity = double(cv * tx) / double(cv + tx);
            const double score = eff_c * eff_x * std::min(1.0, intensity / kMinIntensity);
            if (score > best_score + 1e-9 || (score > best_score - 1e-9 && cv * tx > best_acc)) {
                best_score = score;
                best_acc = cv * tx;
                best.tc = tc;
                best.tx = tx;
            }
        }
    }
    return best;
}

Var tile_dense_output(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L, Func tiled,
                      const DenseKnobs &k, const CpuParams &cp) {
    const ConvTile t{k.vec, k.cv * k.vec, k.tx};
    Var co("co"), ci("ci"), xo("xo"), xi("xi"), par("par");
    align_channels(tiled, L);
    tiled.compute_root()
        .split(p.c, co, ci, t.tc, tail_for(L.channels(), t.tc, true))
        .split(p.x, xo, xi, t.tx, tail_for(L.out_w, t.tx, true));
    if (k.co_inner && k.rows)
        tiled.reorder(ci, xi, co, xo, p.y, p.n);
    else
        tiled.reorder(ci, xi, xo, co, p.y, p.n);
    if (t.vec > 1) tiled.vectorize(ci, t.vec);
    tiled.unroll(ci).unroll(xi);
    if (k.rows) {
        parallel_loop(tiled, p.y, cp);
    } else {
        tiled.fuse(co, p.y, par);
        parallel_loop(tiled, par, cp);
    }
    return k.co_inner && k.rows ? co : xo;
}

std::string describe_dense(const DenseKnobs &k) {
    std::ostringstream s;
    s << "tile " << k.cv * k.vec << " channels x " << k.tx << " pixels in registers (vector "
      << k.vec << "), " << (k.rows ? "rows" : "channel tiles x rows") << " in parallel";
    if (k.co_inner && k.rows) s << ", channel tiles inside pixel tiles";
    return s.str();
}

std::string schedule_dense(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                           Func tiled, Func acc, const DenseKnobs &k, const CpuParams &cp) {
    const Var at = tile_dense_output(p, L, tiled, k, cp);
    acc.compute_at(tiled, at);
    if (k.vec > 1) acc.vectorize(p.c, k.vec);
    acc.unroll(p.c).unroll(p.x);
    Halide::Stage u = acc.update();
    std::vector<VarOrRVar> order{p.c, p.x};
    for (int i = 0; i < L.r.dimensions(); ++i) order.push_back(L.r[i]);
    order.push_back(p.y);
    order.push_back(p.n);
    u.reorder(order);
    if (k.vec > 1) u.vectorize(p.c, k.vec);
    u.unroll(p.c).unroll(p.x);
    if (L.r.dimensions() == 3 && L.cin <= 4) u.unroll(L.r.x);  // the stem's 3 input channels
    return "dense: " + describe_dense(k);
}

std::string schedule_padded_image(const codegen::LoweredPipeline &p, codegen::LoweredConv &L,
                                  const CpuParams &cp) {
    (void)p;
    Func f = L.padded;
    const std::vector<Var> a = f.args();  // (x, y, c, n) of the NCHW image
    const int w = L.in_w + 2 * L.pad;
    const int lanes = channel_lanes(w, cp);
    f.compute_root();
    if (lanes > 1 && a.size() == 4) f.vectorize(a[0], lanes, tail_for(w, lanes, true));
    if (a.size() == 4) parallel_loop(f, a[1], cp);
    return "padded image at root, vector " + std::to_string(lanes);
}

namespace {
// A depthwise row: one vector of channels at a time across the row (its 9 weight vectors
// stay in registers), `k.ux` pixels unrolled so that neighbouring taps share their loads
// (the default: 4 pixels where the row has them). Returns the pixels unrolled.
int depthwise_loops(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L, Func f,
                    const DepthwiseKnobs &k) {
    Var co("co"), ci("ci"), xo("xo"), xi("xi");
    const int lanes = k.lanes;
    align_channels(f, L);
    f.split(p.c, co, ci, lanes, tail_for(L.channels(), lanes, true));
    int ux = 1;
    if (k.ux > 1 && L.out_w >= k.ux) {
        ux = k.ux;
        f.split(p.x, xo, xi, ux, tail_for(L.out_w, ux, true)).reorder(ci, xi, xo, co).unroll(xi);
    } else {
        f.reorder(ci, p.x, co);
    }
    if (lanes > 1) f.vectorize(ci);
    return ux;
}
}  // namespace

DepthwiseKnobs default_depthwise_knobs(const codegen::LoweredConv &L, bool inside,
                                       const CpuParams &cp) {
    constexpr int kDepthwiseUnrollX = 4;
    DepthwiseKnobs k;
    k.inside = inside;
    k.ux = L.out_w >= kDepthwiseUnrollX ? kDepthwiseUnrollX : 1;
    k.lanes = channel_lanes(L.channels(), cp);
    return k;
}

std::string schedule_depthwise_at(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                                  Func f, Func consumer, const Var &at, const DepthwiseKnobs &k,
                                  const CpuParams &cp) {
    (void)cp;
    f.compute_at(consumer, at);
    const int ux = depthwise_loops(p, L, f, k);
    return "depthwise: computed per output row inside the next op's row loop, vector " +
           std::to_string(k.lanes) + " channels outer, " + std::to_string(ux) + " pixels unrolled";
}

std::string schedule_depthwise_root(const codegen::LoweredPipeline &p,
                                    const codegen::LoweredConv &L, Func f,
                                    const DepthwiseKnobs &k, const CpuParams &cp) {
    f.compute_root();
    const int ux = depthwise_loops(p, L, f, k);
    parallel_loop(f, p.y, cp);
    return "depthwise: at root, rows in parallel, vector " + std::to_string(k.lanes) +
           " channels outer, " + std::to_string(ux) + " pixels unrolled";
}

void schedule_elementwise_root(const codegen::LoweredPipeline &p, Func f, int channels,
                               const CpuParams &cp) {
    f.compute_root();
    vectorize_pure(f, p.c, channels, channel_lanes(channels, cp));
    parallel_loop(f, p.y, cp);
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

int head_chunk(int classes, int lanes) {
    int u = 1;
    for (int cand = 4; cand >= 1; --cand)
        if (lanes * cand <= classes &&
            (classes % (lanes * cand) == 0 || cand == 1 || classes >= 8 * lanes * cand) &&
            ((lanes * cand) % codegen::kWeightBlock == 0 || codegen::kWeightBlock % (lanes * cand) == 0)) {
            u = cand;
            break;
        }
    return lanes * u;
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
    const int chunk = head_chunk(K, lk);
    Var ko("ko"), ki("ki");
    // (A last chunk shifted inwards starts off the weight blocks: its loads are gathers.
    // Guarding it instead makes bounds inference ask for whole chunks beyond the tensor.)
    h.logits.split(p.k, ko, ki, chunk, tail_for(K, chunk, true));
    parallel_loop(h.logits, ko, cp);
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
