// The individual passes, one file each (compiler/passes/<name>.cpp). Each rewrites the
// graph in place and leaves it valid; pipeline.cpp runs them in order.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace m1c {

// conv2d -> batchnorm (the conv read by nothing else) becomes conv2d + bias.
void fold_batchnorm(Graph &graph);
// add of a block's branches (convs with bias, and an identity batchnorm of the block input)
// becomes one conv2d + bias with the largest kernel: MobileOne's reparameterisation.
void fold_branches(Graph &graph);
// conv2d -> squeeze_excite becomes conv2d with an SE epilogue.
void fuse_squeeze_excite(Graph &graph);
// conv2d -> relu becomes conv2d with a ReLU epilogue.
void fuse_conv_relu(Graph &graph);
// global_avg_pool -> linear becomes one pooled linear (the classifier head).
void fuse_head(Graph &graph);

// Backbone builds: the outputs of `stages` (1..4, ascending) become the graph's feature
// outputs (Graph::features); the head and every op after the last of them are removed.
// Works on any graph whose ops are named by block ("stage2.7..."). Throws m1c::Error on a
// bad stage list or a graph without the stage.
void select_features(Graph &graph, const std::vector<int> &stages);

// Segmentation's output stride (as segmentation_models_pytorch makes it): 16 gives every
// conv of stage4 stride 1, dilation 2 and padding (k / 2) * 2; 8 does that to stage3 with
// dilation 2 and stage4 with 4. 32 changes nothing. Value shapes downstream are recomputed;
// folded kernels are unchanged. Throws m1c::Error for another stride.
void dilate_stages(Graph &graph, int output_stride);

// int8: every value of a fused graph (codegen form) gets its 8-bit quantization from
// `params`, keyed "input" (the image), by the name of the conv op writing the value, and
// "<head>.pooled" (the head's pooled features). The graph then lowers as int8
// (codegen/lowered.h: lower_int8). Throws m1c::Error naming the first tensor missing.
void annotate_int8(Graph &graph, const std::map<std::string, QuantParams> &params);

}  // namespace m1c
