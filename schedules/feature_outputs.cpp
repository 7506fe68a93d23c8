// Backbone builds: the feature outputs (NCHW copies of conv outputs, lower_features.cpp).
// Each is computed at root as its own loop nest, a transpose from the pipeline's
// channels-innermost layout to NCHW, done in tiles of 16 channels x (up to) one vector of
// pixels: the tile's source pixels are first copied into a small wrapper buffer with one
// dense channel-vector load each, then the NCHW rows are written from it a vector at a time.
// (Reading the source straight along x strides by C elements: at stage4, C = 1024 floats =
// 4 KB, every load of a row falls in the same L1 set and the copies of S0's four stages took
// a fifth of the backbone's time at 256x256; the tiles keep that under 5%.) Tiles run in
// parallel over (channel block, row). The conv a feature copies is already at root (a dense
// op's output is its tiled Func), so the copy adds one pass over the map, no recomputation.
#include <algorithm>

#include "templates.h"

namespace m1c::schedules {

std::vector<std::string> schedule_feature_outputs(codegen::LoweredPipeline &p, const CpuParams &cp) {
    std::vector<std::string> lines;
    for (codegen::LoweredFeature &f : p.features) {
        const codegen::LoweredConv &L = p.convs.at(size_t(f.conv));
        const int vec = cp.vector_floats;
        const int xt = std::min(vec, f.w);  // pixels per tile: a vector, or the whole row
        const int ct = std::min(codegen::kWeightBlock, f.c);
        Halide::Var xo("xo"), xi("xi"), co("co"), ci("ci"), cy("cy");
        f.out.compute_root()
            .split(p.x, xo, xi, xt, f.w % xt == 0 ? Halide::TailStrategy::Auto : Halide::TailStrategy::ShiftInwards)
            .split(p.c, co, ci, ct, f.c % ct == 0 ? Halide::TailStrategy::Auto : Halide::TailStrategy::ShiftInwards)
            .reorder(xi, ci, xo, co, p.y, p.n)
            .fuse(co, p.y, cy);
        if (xt == vec) f.out.vectorize(xi);
        parallel_loop(f.out, cy, cp);
        // The tile's source: (ct channels, xt pixels), loaded a channel vector per pixel.
        Halide::Func source = L.out;  // a handle: scheduling it schedules the conv's output
        Halide::Func tile = source.in(f.out);
        tile.compute_at(f.out, xo).vectorize(p.c, std::min(ct, vec), Halide::TailStrategy::GuardWithIf);
        lines.push_back("feature " + f.name + " [" + std::to_string(f.n) + ", " + std::to_string(f.c) +
                        ", " + std::to_string(f.h) + ", " + std::to_string(f.w) +
                        "]: NCHW transpose at root in tiles of " + std::to_string(ct) + " channels x " +
                        std::to_string(xt) + " pixels, (channel block, row) in parallel");
    }
    return lines;
}

}  // namespace m1c::schedules
