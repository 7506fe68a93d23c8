// The knob values of every op of a pipeline, and the one walk that applies them with the
// templates. The default schedule computes its knobs (default_knobs) and applies them;
// tuned schedules (tuned_schedule.cpp) replace some with measured winners. One walk for
// both, so a default configuration found in the records compiles to the default code.
#pragma once
#include <vector>

#include "schedule.h"
#include "templates.h"

namespace m1c::schedules {

// Per conv of LoweredPipeline::convs: the dense knobs (Dense ops) or the depthwise knobs
// (Depthwise ops); the other half is unused.
struct OpKnobs {
    DenseKnobs dense;
    DepthwiseKnobs dw;
};

// The Func a dense op is tiled over: its output, or (squeeze-excite) a wrapper of the conv
// that the mean and the scaled output both read. (Func::in() returns the same wrapper on
// every call.)
Halide::Func tiled_func(codegen::LoweredConv &L);

// Whether depthwise op i may be computed inside op i+1's row loop: op i+1 is a pointwise
// dense op parallel over rows, and op i has no squeeze-excite (its mean needs every row).
bool can_compute_inside(const codegen::LoweredPipeline &p, size_t i, const std::vector<OpKnobs> &k);

// Today's hand choices: choose_conv_tile, rows when out_h >= 14 (always when single
// threaded), depthwise inside its consumer whenever it can be; on AVX2 (knobs.cpp) the
// depthwise convs of 28x28 at stride 1 and of 14x14 and smaller at root instead, and the
// stem parallel over channel tiles x rows.
std::vector<OpKnobs> default_knobs(const codegen::LoweredPipeline &p, const CpuParams &cp);

// Schedules every op with `knobs` (one per conv; a depthwise op whose `inside` cannot hold
// is computed at root) and the head with its template. Returns one line per op.
std::vector<std::string> apply_knobs(codegen::LoweredPipeline &p, const CpuParams &cp,
                                     const std::vector<OpKnobs> &knobs);

}  // namespace m1c::schedules
