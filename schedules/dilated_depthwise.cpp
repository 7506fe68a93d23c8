// Dilated depthwise convolutions (--output-stride 16|8: passes/dilate_stages.cpp). The taps
// of output pixel x are x - d, x, x + d: the default template's 4 neighbouring pixels
// unrolled share no input vector once d >= 4 (12 loads per row of taps instead of 6). Here
// the unrolled pixels are d apart instead (x, x + d, x + 2d, ...), so that pixel j's right
// tap is pixel j + 1's centre tap, exactly as for an undilated row: the same registers, the
// same loads per pixel. The row is split into blocks of ux * d pixels (ux groups of d
// interleaved pixels each); the d pixels of a group are a loop around the unrolled ones.
#include "templates.h"

#include <cstdlib>  // AB-TEMP

namespace m1c::schedules {

using Halide::Func;
using Halide::Var;

bool use_dilated_depthwise(const codegen::LoweredConv &L, const DepthwiseKnobs &k) {
    if (const char *e = std::getenv("M1C_AB_DILATED")) if (e[0] == '0') return false;  // AB-TEMP
    return L.dilation > 1 && k.ux > 1 && L.out_w >= k.ux * L.dilation;
}

int dilated_depthwise_loops(const codegen::LoweredPipeline &p, const codegen::LoweredConv &L, Func f,
                            const DepthwiseKnobs &k) {
    Var co("co"), ci("ci"), xo("xo"), xr("xr"), xi("xi"), xd("xd");
    const int d = L.dilation, block = k.ux * d;
    align_channels(f, L);
    f.split(p.c, co, ci, k.lanes, tail_for(L.channels(), k.lanes, true));
    // x = xo * block + xi * d + xd; the last block is shifted inwards (pure: recomputes).
    f.split(p.x, xo, xr, block, tail_for(L.out_w, block, true))
        .split(xr, xi, xd, d, Halide::TailStrategy::RoundUp)
        .reorder(ci, xi, xd, xo, co)
        .unroll(xi);
    if (k.lanes > 1) f.vectorize(ci);
    return k.ux;
}

bool use_dilated_rows(const codegen::LoweredConv &dw, const codegen::LoweredConv &consumer) {
    if (const char *e = std::getenv("M1C_AB_ROWS")) if (e[0] == '0') return false;  // AB-TEMP
    return dw.dilation > 1 && consumer.out_h >= 2 * dw.dilation;
}

std::string interleave_dilated_rows(const codegen::LoweredPipeline &p, const codegen::LoweredConv &dw,
                                    Func dw_func, Func consumer, const CpuParams &cp) {
    // Row y of the depthwise op reads input rows y - d, y, y + d; computed row by row in
    // its consumer's row loop, an input row is read again only d and 2d rows later, after
    // 2d rows of the consumer's input, output and weights have passed through the cache
    // (S0 at output stride 8, 512x512: 64 KB rows, 256 KB of weights). Rows d apart made
    // consecutive (y = yo * d + yi, yi outside yo) reuse it one and two rows later, as an
    // undilated row does.
    const int d = dw.dilation;
    Var yo("yo_d"), yi("yi_d");
    consumer.split(p.y, yo, yi, d, tail_for(dw.out_h, d, true)).reorder(yo, yi).serial(yi);
    parallel_loop(consumer, yo, cp);
    dw_func.compute_at(consumer, yo);
    return "rows " + std::to_string(d) + " apart consecutive (dilation " + std::to_string(d) + ")";
}

}  // namespace m1c::schedules
