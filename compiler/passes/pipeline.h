// The pass pipeline from any built graph to the form code generation takes: every block
// one conv2d+bias(+se)(+relu), and the head one pool+linear.
#pragma once
#include "ir/graph.h"

namespace m1c {

Graph fold_and_fuse(Graph graph);

// Throws m1c::Error unless every op is a biased conv2d or a pooled linear, in a chain.
void check_codegen_form(const Graph &graph);

}  // namespace m1c
