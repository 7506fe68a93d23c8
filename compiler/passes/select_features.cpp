// Backbone builds: the outputs of the requested stages become the graph's outputs. A
// stage's output is the value written by the last op named after it ("stage3.19", or
// "stage3.19.relu" before folding); the head and the ops past the last requested stage
// compute nothing a feature needs, so they go.
#include <string>

#include "core/error.h"
#include "passes/passes.h"

namespace m1c {

void select_features(Graph &graph, const std::vector<int> &stages) {
    if (stages.empty()) throw Error("select_features: no stage requested");
    for (size_t i = 0; i < stages.size(); ++i)
        if (stages[i] < 1 || stages[i] > 4 || (i > 0 && stages[i] <= stages[i - 1]))
            throw Error("select_features: stages must be distinct, ascending, in 1..4");
    std::vector<int> last_op(5, -1);
    for (size_t i = 0; i < graph.ops.size(); ++i) last_op[stage_of_op(graph.ops[i].name)] = int(i);
    graph.features.clear();
    graph.feature_names.clear();
    for (int s : stages) {
        if (last_op[s] < 0) throw Error("select_features: the graph has no op of stage" + std::to_string(s));
        graph.features.push_back(graph.ops[last_op[s]].output);
        graph.feature_names.push_back("stage" + std::to_string(s));
    }
    graph.output = graph.features.back();
    graph.ops.resize(size_t(last_op[stages.back()]) + 1);
    graph.remove_dead_ops();
}

}  // namespace m1c
