// Per-op schedule templates, parameterised by CpuParams. Each returns a one-line
// description of what it did (for the manifest).
#pragma once
#include <string>

#include "schedule.h"

namespace m1c::schedules {

// Tail strategies: pure definitions may recompute a few elements (ShiftInwards keeps every
// tile inside the buffer); updates must not, so they get GuardWithIf unless the split is exact.
Halide::TailStrategy tail_for(int extent, int factor, bool pure);
void vectorize_pure(Halide::Func f, const Halide::Var &v, int extent, int lanes);
void vectorize_update(Halide::Stage s, const Halide::Var &v, int extent, int lanes);

// int8 ops store L.stored_channels channels (Cout rounded up to whole vectors): `f`'s
// channel dimension (its first) is computed over all of them. No-op for float32 ops.
void align_channels(Halide::Func f, const codegen::LoweredConv &L);

// A register-blocked output tile of a dense conv: `tc` channels (a multiple of `vec`) by
// `tx` pixels of one row.
struct ConvTile {
    int vec = 1, tc = 1, tx = 1;
};
ConvTile choose_conv_tile(int channels, int width, const CpuParams &cp);

// The knobs of a dense conv's template (the tuner's search space, schedules/search_space.h,
// is over these; the default schedule computes them from choose_conv_tile).
struct DenseKnobs {
    int vec = 1;            // vector lanes of the channel tile
    int cv = 1;             // channel vectors per register tile: tc = cv * vec channels
    int tx = 1;             // pixels of one row per register tile
    bool rows = true;       // parallel over rows; false: over (channel tiles x rows)
    bool co_inner = false;  // loop order: pixel tiles outside channel tiles (rows only)
    bool operator==(const DenseKnobs &o) const {
        return vec == o.vec && cv == o.cv && tx == o.tx && rows == o.rows && co_inner == o.co_inner;
    }
};

// The knobs of a depthwise conv's template.
struct DepthwiseKnobs {
    bool inside = false;  // computed per row inside its (pointwise) consumer's row loop
    int ux = 4;           // pixels unrolled (1: no unroll)
    int lanes = 4;        // channel vector lanes (1: scalar)
    bool operator==(const DepthwiseKnobs &o) const {
        return inside == o.inside && ux == o.ux && lanes == o.lanes;
    }
};

// The lanes to vectorise a channel dimension of `extent` with (<= cp.vector_floats, a power
// of two no larger than the extent; 1: do not vectorise).
int channel_lanes(int extent, const CpuParams &cp);

// Dense conv (stem, pointwise): `tiled` computed at root in ConvTile tiles, rows (or tiles
// of channels x rows when there are few rows) in parallel; `acc` (the conv with its
// reduction) computed per tile in registers.
std::string schedule_dense(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                           Halide::Func tiled, Halide::Func acc, const DenseKnobs &k,
                           const CpuParams &cp);
// Its two halves, shared with the int8 template (templates_int8.h): `tiled` at root in
// register tiles, rows (or channel tiles x rows) in parallel; returns the loop the
// accumulator is computed at. And the knobs in words, for the manifest.
Halide::Var tile_dense_output(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                              Halide::Func tiled, const DenseKnobs &k, const CpuParams &cp);
std::string describe_dense(const DenseKnobs &k);

// The stem's zero-padded image (L.padded of a conv reading the pipeline input) at root,
// vectorised along rows: the conv's taps then read a plain buffer instead of testing the
// image bounds in its innermost loop.
std::string schedule_padded_image(const codegen::LoweredPipeline &p, codegen::LoweredConv &L,
                                  const CpuParams &cp);

// Depthwise conv `f` (pure): either computed per output row of its consumer's loop
// `consumer` at `at` (fused), or at root with rows in parallel.
// The default depthwise knobs (4 pixels unrolled where the row has them, channel_lanes).
DepthwiseKnobs default_depthwise_knobs(const codegen::LoweredConv &L, bool inside,
                                       const CpuParams &cp);
std::string schedule_depthwise_at(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                                  Halide::Func f, Halide::Func consumer, const Halide::Var &at,
                                  const DepthwiseKnobs &k, const CpuParams &cp);
std::string schedule_depthwise_root(const codegen::LoweredPipeline &p,
                                    const codegen::LoweredConv &L, Halide::Func f,
                                    const DepthwiseKnobs &k, const CpuParams &cp);

// An elementwise (c, x, y, n) Func at root: channels vectorised, rows in parallel.
void schedule_elementwise_root(const codegen::LoweredPipeline &p, Halide::Func f, int channels,
                               const CpuParams &cp);

// Squeeze-excite: the per-channel mean, reduce, expand and sigmoid at root, vectorised.
std::string schedule_squeeze_excite(const codegen::LoweredPipeline &p,
                                    codegen::LoweredConv &L, const CpuParams &cp);

// The classes the head computes per parallel chunk (a multiple of `lanes`).
int head_chunk(int classes, int lanes);

// Backbone builds: each feature output (codegen::LoweredFeature, NCHW) at root, vectorised
// along x, parallel over channels; its conv op stays at root. Returns one line per feature.
std::vector<std::string> schedule_feature_outputs(codegen::LoweredPipeline &p, const CpuParams &cp);

// Head: pool at root, linear vectorised over classes, chunks of classes in parallel.
std::string schedule_head(const codegen::LoweredPipeline &p, codegen::LoweredHead &h,
                          const CpuParams &cp);

}  // namespace m1c::schedules
