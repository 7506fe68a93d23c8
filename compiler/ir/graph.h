// The graph IR: a small typed dataflow graph of activation tensors (NCHW, batch N) and the
// ops MobileOne needs. Ops are kept in topological order; every op writes one new value.
// Passes (compiler/passes/) rewrite a Graph into a smaller, fused Graph; code generation
// (compiler/codegen/) consumes the fused form.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace m1c {

// The 8-bit quantization of an activation, set by the int8 pass (passes/annotate_int8.cpp)
// from a calibration: real = scale * (q - zero_point), q an integer in [0, 255].
struct QuantParams {
    float scale = 1.0f;
    int zero_point = 0;
};

// An activation tensor flowing between ops (weights are attributes of ops, not values).
struct Value {
    std::string name;
    int n = 1, c = 0, h = 0, w = 0;
    std::optional<QuantParams> quant;  // set on every value of an int8 graph
    int64_t numel() const { return int64_t(n) * c * h * w; }
};

struct SqueezeExciteAttrs {
    Tensor reduce_weight;  // [R, C, 1, 1]
    Tensor reduce_bias;    // [R]
    Tensor expand_weight;  // [C, R, 1, 1]
    Tensor expand_bias;    // [C]
};

struct Conv2dAttrs {
    int kernel = 1, stride = 1, pad = 0, groups = 1;
    int dilation = 1;           // > 1 only in dilated stages (passes/dilate_stages.cpp)
    Tensor weight;              // [Cout, Cin/groups, k, k]
    std::optional<Tensor> bias; // [Cout]
    // Epilogue, filled by the fusion passes: y = relu?(se?(conv(x) + bias)).
    std::optional<SqueezeExciteAttrs> se;
    bool relu = false;
};

struct BatchNormAttrs {
    Tensor gamma, beta, mean, var;  // [C] each
    float eps = 1e-5f;
};

struct LinearAttrs {
    Tensor weight;  // [classes, features]
    Tensor bias;    // [classes]
    bool pooled_input = false;  // fused head: global average pool of a NCHW input first
    // int8 graphs: the quantization of the pooled features (the linear's input).
    std::optional<QuantParams> pooled_quant;
};

struct AddAttrs {};
struct ReluAttrs {};
struct GlobalAvgPoolAttrs {};

using OpAttrs = std::variant<Conv2dAttrs, BatchNormAttrs, AddAttrs, ReluAttrs,
                             SqueezeExciteAttrs, GlobalAvgPoolAttrs, LinearAttrs>;

struct Op {
    std::string name;         // e.g. "stage2.7.rbr_conv.0.conv" or "stage2.7" once folded
    std::vector<int> inputs;  // value ids
    int output = -1;          // value id
    OpAttrs attrs;

    template <class T> bool is() const { return std::holds_alternative<T>(attrs); }
    template <class T> T &as() { return std::get<T>(attrs); }
    template <class T> const T &as() const { return std::get<T>(attrs); }
};

struct Graph {
    std::vector<Value> values;
    std::vector<Op> ops;  // topological order
    int input = -1;       // value id of the image batch [N, 3, H, W]
    int output = -1;      // value id of the logits [N, classes, 1, 1] (backbones: the last feature)
    // Backbone builds (passes/select_features.cpp): the value ids of the feature maps the
    // pipeline returns instead of logits, and their names ("stage1".."stage4"), in order.
    // Empty for classifiers.
    std::vector<int> features;
    std::vector<std::string> feature_names;

    int add_value(Value v);
    // Ops that read value `id`.
    std::vector<int> consumers(int id) const;
    // Index of the op that writes value `id`, or -1 for the graph input.
    int producer(int id) const;
    // True when op `op_index`'s output is read by exactly one op and is not the graph output:
    // the condition for folding that consumer into it.
    bool has_single_consumer(int op_index) const;
    // Op `op_index` (whose output is read by one op only) takes over the output of that
    // consumer, which is removed. Used by every fusion: the consumer's work has been moved
    // into the producer's attributes by the caller first.
    void absorb_consumer(int op_index);
    // Removes ops whose outputs nobody reads (other than the graph output) and unused values
    // are left in place (ids stay stable).
    void remove_dead_ops();
};

// The MobileOne stage (1..4) an op belongs to by its name ("stage3", "stage3.7",
// "stage3.7.rbr_conv.0.conv"), else 0 (the stem "stage0", the head).
int stage_of_op(const std::string &op_name);

// A short name of an op's kind for tables: "conv2d", "batchnorm", "add", ...; fused
// epilogues are appended: "conv2d+bias+se+relu", "pool+linear".
std::string op_kind_name(const Op &op);

}  // namespace m1c
