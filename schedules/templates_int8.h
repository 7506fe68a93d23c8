// Schedule templates of the int8 pipeline (codegen/lower_int8.cpp) where it differs from
// float32: dense convs and the head reduce over groups of 4 input channels, one 32-bit
// dot-product lane each (vpdpbusd on x86 with AVX512-VNNI, sdot on ARM with dot products;
// elsewhere Halide widens and pairs the multiplies). The depthwise, squeeze-excite and
// padded-image templates are shared with float32 (templates.h).
#pragma once
#include <string>

#include "templates.h"

namespace m1c::schedules {

// Dense int8 conv: `tiled` in register tiles as the float template does (tile_dense_output);
// `acc` (int32) per tile, its update vectorised over the 4-group (atomic: the reduction is
// exact in integers) and the tile's channels, so each step is one dot product per vector.
std::string schedule_dense_int8(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L,
                                Halide::Func tiled, Halide::Func acc, const DenseKnobs &k,
                                const CpuParams &cp);

// Head: pooled sums and quantized means at root; the int8 linear in chunks of classes in
// parallel, dot products over 4-groups of features.
std::string schedule_head_int8(const codegen::LoweredPipeline &p, codegen::LoweredHead &h,
                               const CpuParams &cp);

}  // namespace m1c::schedules
