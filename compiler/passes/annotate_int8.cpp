#include "core/error.h"
#include "passes/passes.h"

namespace m1c {

void annotate_int8(Graph &graph, const std::map<std::string, QuantParams> &params) {
    auto get = [&params](const std::string &name) {
        auto it = params.find(name);
        if (it == params.end())
            throw Error("int8: the calibration has no range for \"" + name +
                        "\" (was it made for another model?)");
        if (!(it->second.scale > 0) || it->second.zero_point < 0 || it->second.zero_point > 255)
            throw Error("int8: bad quantization for \"" + name + "\"");
        return it->second;
    };
    graph.values.at(graph.input).quant = get("input");
    for (Op &op : graph.ops) {
        if (op.is<Conv2dAttrs>()) {
            graph.values.at(op.output).quant = get(op.name);
        } else if (op.is<LinearAttrs>()) {
            LinearAttrs &l = op.as<LinearAttrs>();
            if (!l.pooled_input) throw Error("int8: op " + op.name + ": a linear without its pool");
            l.pooled_quant = get(op.name + ".pooled");
        } else {
            throw Error("int8: op " + op.name + " (" + op_kind_name(op) +
                        ") is not in codegen form; fold and fuse first");
        }
    }
}

}  // namespace m1c
