// The measurement pipeline of one tuning unit: the unit's ops (ops first..last of the fused
// graph, with their weights) between a small fixed producer and a small head, as a Graph
// that codegen::lower takes unchanged. The producer is a 1x1 conv from a 3-channel image
// of the unit's input size (lower() wants an image input); the head pools to 16 classes.
// Both are the same for every configuration of the unit, so they shift its times by a
// constant; `baseline_graph` (producer + head alone) measures that constant.
#pragma once
#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c::tune {

struct UnitGraph {
    Graph graph;
    InputShape shape;
    int offset = 0;  // conv index in the unit graph = index in the fused graph - first + offset
};

UnitGraph unit_graph(const Graph &fused, int first, int last);
// The producer and head of unit_graph(fused, first, ...) alone; empty graph (no ops) when
// the unit reads the image itself.
UnitGraph baseline_graph(const Graph &fused, int first);

}  // namespace m1c::tune
