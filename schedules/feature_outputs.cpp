// Backbone builds: the feature outputs (NCHW copies of conv outputs, lower_features.cpp).
// Each is computed at root as its own loop nest: rows in parallel over (channel, row),
// vectorised along x where the width allows. The conv it copies is already at root (a
// dense op's output is its tiled Func), so the copy adds one pass over the map, no
// recomputation.
#include "templates.h"

namespace m1c::schedules {

std::vector<std::string> schedule_feature_outputs(codegen::LoweredPipeline &p, const CpuParams &cp) {
    std::vector<std::string> lines;
    for (codegen::LoweredFeature &f : p.features) {
        Halide::Var cy("cy");
        f.out.compute_root();
        f.out.fuse(p.c, p.y, cy);
        parallel_loop(f.out, cy, cp);
        const int vec = cp.vector_floats;
        const bool vectorized = f.w >= vec;
        if (vectorized)
            f.out.vectorize(p.x, vec, f.w % vec == 0 ? Halide::TailStrategy::Auto
                                                     : Halide::TailStrategy::ShiftInwards);
        lines.push_back("feature " + f.name + " [" + std::to_string(f.n) + ", " + std::to_string(f.c) +
                        ", " + std::to_string(f.h) + ", " + std::to_string(f.w) +
                        "]: NCHW copy at root, rows in parallel" +
                        (vectorized ? ", vector " + std::to_string(vec) + " along x" : ""));
    }
    return lines;
}

}  // namespace m1c::schedules
