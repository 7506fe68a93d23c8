// The individual passes, one file each (compiler/passes/<name>.cpp). Each rewrites the
// graph in place and leaves it valid; pipeline.cpp runs them in order.
#pragma once
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

}  // namespace m1c
