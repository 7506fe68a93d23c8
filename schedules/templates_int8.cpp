// The int8 schedule templates. See templates_int8.h.
#include "templates_int8.h"

namespace m1c::schedules {

using Halide::Func;
using Halide::Var;
using Halide::VarOrRVar;

std::string schedule_dense_int8(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                                Func tiled, Func acc, const DenseKnobs &k, const CpuParams &cp) {
    const Var at = tile_dense_output(p, L, tiled, k, cp);
    acc.compute_at(tiled, at);
    if (k.vec > 1) acc.vectorize(p.c, k.vec);
    acc.unroll(p.c).unroll(p.x);
    // r[0] is the 4-group (input channels, or the stem's horizontal taps): innermost, then
    // the tile's channels and pixels, then the rest of the reduction.
    Halide::Stage u = acc.update();
    std::vector<VarOrRVar> order{L.r[0], p.c, p.x};
    for (int i = 1; i < L.r.dimensions(); ++i) order.push_back(L.r[i]);
    order.push_back(p.y);
    order.push_back(p.n);
    u.reorder(order).atomic().vectorize(L.r[0]);
    if (k.vec > 1) u.vectorize(p.c, k.vec);
    u.unroll(p.c).unroll(p.x);
    if (L.from_image && L.cin <= 4) u.unroll(L.r[1]);  // the stem's 3 input channels
    return "dense int8 (4-channel dot products): " + describe_dense(k);
}

std::string schedule_head_int8(const codegen::LoweredPipeline &p, codegen::LoweredHead &h,
                               const CpuParams &cp) {
    const int F = h.features, K = h.classes;
    const int F4 = (F + 3) / 4 * 4;
    const int lf = channel_lanes(F, cp), lk = channel_lanes(K, cp);

    h.pool.compute_root();
    vectorize_pure(h.pool, p.c, F, lf);
    Halide::Stage s = h.pool.update();
    s.reorder(p.c, h.hw.x, h.hw.y, p.n);
    vectorize_update(s, p.c, F, lf);

    h.pooled.compute_root();
    vectorize_pure(h.pooled, p.c, F4, channel_lanes(F4, cp));

    // The linear over whole weight blocks of classes (zero-padded): 16-lane dot products
    // (a narrower one would be a 256-bit vpdpbusd, which LLVM may VEX-encode as AVX-VNNI).
    // Per tile of `unroll` class vectors, the features innermost: the accumulators stay in
    // registers and each tile streams its weights once (they are laid out that way).
    const int lanes = cp.vector_floats;
    const int blocks = (K + codegen::kWeightBlock - 1) / codegen::kWeightBlock;
    int unroll = 1;
    for (int u : {4, 3, 2})
        if ((blocks * codegen::kWeightBlock) % (u * lanes) == 0) {
            unroll = u;
            break;
        }
    h.linear.compute_root().align_bounds(p.k, codegen::kWeightBlock);
    vectorize_pure(h.linear, p.k, codegen::kWeightBlock, lanes);
    Halide::Stage l = h.linear.update();
    Var ko("ko"), ku("ku"), kv("kv");
    l.split(p.k, ko, kv, lanes * unroll, Halide::TailStrategy::RoundUp)
        .split(kv, ku, kv, lanes, Halide::TailStrategy::GuardWithIf)
        .reorder(h.rf.x, kv, ku, h.rf.y, ko, p.n)
        .atomic()
        .vectorize(h.rf.x)
        .vectorize(kv)
        .unroll(ku);
    parallel_loop(l, ko, cp);
    vectorize_pure(h.logits, p.k, K, lk);
    return "head int8: pooled sums and means at root; linear at root in tiles of " +
           std::to_string(unroll) + " x " + std::to_string(lanes) + " classes, 4-feature dot products";
}

}  // namespace m1c::schedules
