// What the float32 lowering (lower.cpp) and the int8 lowering (lower_int8.cpp) share: op
// names, checks, the pipeline input, the conv facts every op is checked for.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <Halide.h>

#include "codegen/lowered.h"

namespace m1c::codegen {

// Reads of the previous activation: f(c, x, y, n) whatever its memory layout.
using Reader = std::function<Halide::Expr(Halide::Expr, Halide::Expr, Halide::Expr, Halide::Expr)>;

// Throws m1c::Error("codegen: op <op>: <what>") unless `ok`.
void expect(bool ok, const std::string &op, const std::string &what);

// Unique C-identifier names for the Funcs of each op (Halide wants unique names); also
// checks every op's value ids.
std::vector<std::string> op_func_names(const Graph &g);

// Checks that the graph input matches `shape` and declares p.input: the NCHW float32 image,
// Halide dims (x, y, c, n), dense, fixed shape. Sets p.shape.
void declare_input(LoweredPipeline &p, const Graph &g, const InputShape &shape);

// Fills the shape facts of a conv op (kind, channels, kernel, sizes) and checks them against
// its weight and the values it reads and writes.
void describe_conv(LoweredConv &L, const Op &op, const Value &src, const Value &dst);

// The head's facts (features, classes, sizes), checked.
void describe_head(LoweredHead &h, const Op &op, const Value &src, size_t index, const Graph &g,
                   int current);

// A squeeze-excite's weights in the float blob (pass 1 of lowering), checked.
struct SqueezeExciteWeights {
    WeightRef rw, rb, ew, eb;  // reduce (R, C), its bias (R), expand (C, R), its bias (C)
};
SqueezeExciteWeights add_squeeze_excite_weights(WeightStore &ws, const Op &op,
                                                const SqueezeExciteAttrs &se, int channels,
                                                const std::string &fname);

// Defines L.se_* over `pre` (the block's float value before SE, (c, x, y, n)): the mean over
// H, W, reduce + ReLU, expand, sigmoid. Returns the per-channel scale L.se_scale(c, n).
Halide::Expr lower_squeeze_excite(LoweredPipeline &p, LoweredConv &L, Halide::Func pre,
                                  const SqueezeExciteWeights &W, const std::string &fname);

// torch [Rows, Cols(, 1, 1)] -> extents (Rows, Cols), Rows innermost (a transpose).
std::vector<float> transposed(const Tensor &w, int rows, int cols);

// Constrains the logits (k, n) output buffer to (classes, batch), dense.
void constrain_output(LoweredPipeline &p);

}  // namespace m1c::codegen
