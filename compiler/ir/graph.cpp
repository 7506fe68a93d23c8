#include "ir/graph.h"

#include <algorithm>

namespace m1c {

int Graph::add_value(Value v) {
    values.push_back(std::move(v));
    return static_cast<int>(values.size()) - 1;
}

std::vector<int> Graph::consumers(int id) const {
    std::vector<int> result;
    for (size_t i = 0; i < ops.size(); ++i)
        if (std::find(ops[i].inputs.begin(), ops[i].inputs.end(), id) != ops[i].inputs.end())
            result.push_back(static_cast<int>(i));
    return result;
}

int Graph::producer(int id) const {
    for (size_t i = 0; i < ops.size(); ++i)
        if (ops[i].output == id) return static_cast<int>(i);
    return -1;
}

bool Graph::has_single_consumer(int op_index) const {
    int id = ops[op_index].output;
    return id != output && consumers(id).size() == 1;
}

void Graph::absorb_consumer(int op_index) {
    std::vector<int> readers = consumers(ops[op_index].output);
    int consumer = readers.at(0);
    ops[op_index].output = ops[consumer].output;
    ops.erase(ops.begin() + consumer);
}

void Graph::remove_dead_ops() {
    // Walk backwards from the output marking every value that is needed.
    std::vector<bool> needed(values.size(), false);
    needed[output] = true;
    std::vector<bool> keep(ops.size(), false);
    for (size_t i = ops.size(); i-- > 0;) {
        if (!needed[ops[i].output]) continue;
        keep[i] = true;
        for (int in : ops[i].inputs) needed[in] = true;
    }
    std::vector<Op> kept;
    for (size_t i = 0; i < ops.size(); ++i)
        if (keep[i]) kept.push_back(std::move(ops[i]));
    ops = std::move(kept);
}

std::string op_kind_name(const Op &op) {
    struct Namer {
        std::string operator()(const Conv2dAttrs &c) const {
            std::string s = "conv2d";
            if (c.bias) s += "+bias";
            if (c.se) s += "+se";
            if (c.relu) s += "+relu";
            return s;
        }
        std::string operator()(const BatchNormAttrs &) const { return "batchnorm"; }
        std::string operator()(const AddAttrs &) const { return "add"; }
        std::string operator()(const ReluAttrs &) const { return "relu"; }
        std::string operator()(const SqueezeExciteAttrs &) const { return "squeeze_excite"; }
        std::string operator()(const GlobalAvgPoolAttrs &) const { return "global_avg_pool"; }
        std::string operator()(const LinearAttrs &l) const {
            return l.pooled_input ? "pool+linear" : "linear";
        }
    };
    return std::visit(Namer{}, op.attrs);
}

int stage_of_op(const std::string &op_name) {
    if (op_name.size() < 6 || op_name.compare(0, 5, "stage") != 0) return 0;
    const char d = op_name[5];
    if (d < '1' || d > '4' || (op_name.size() > 6 && op_name[6] != '.')) return 0;
    return d - '0';
}

}  // namespace m1c
