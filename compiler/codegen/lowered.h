// The fused graph as a Halide algorithm (no schedule): one Func per fused op, the
// activation layout channels-innermost f(c, x, y, n), weights rearranged for that layout.
// lower.cpp builds it; schedules/ schedules it; compile_library.cpp / run_on_host.cpp
// compile it. Internal to code generation (Halide.h is not part of codegen.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <Halide.h>

#include "ir/build_graph.h"
#include "ir/graph.h"

namespace m1c::codegen {

// One weight tensor as the pipeline reads it: a slice of the weights blob (all tensors,
// rearranged, at 16-float aligned offsets). `extents` are innermost first; element
// (i0, i1, ...) is blob[offset + i0 + e0 * (i1 + e1 * (...))]. The blob is one constant
// Halide Buffer compiled into the library (embedded mode) or the pipeline input "weights"
// (external mode) -- the same Func either way, so both modes run the same code. (One buffer
// rather than one per tensor: Halide's lowering time grows with the number of buffers;
// S4 compiled 5x slower with ~150 separate constant buffers.)
struct WeightRef {
    std::string name;
    std::vector<int> extents;
    int64_t offset = 0;
    Halide::Func blob;

    Halide::Expr operator()(const std::vector<Halide::Expr> &index) const;
};

// How the blob is stored: float32, or float16 (`--weights-dtype f16`: half the bytes; each
// weight is converted to float32 where the pipeline loads it, all arithmetic in float32;
// embedded weights only).
enum class WeightsDType { F32, F16 };

// Every weight tensor of the pipeline, in creation order, and the blob holding them.
class WeightStore {
public:
    explicit WeightStore(bool external, WeightsDType dtype = WeightsDType::F32);

    // Copies `values` (laid out as described at WeightRef) in; `source` says where it came
    // from (op name and role), for the manifest.
    WeightRef add(const std::string &name, std::vector<int> extents, std::vector<float> values,
                  const std::string &source);
    // Defines the blob once every tensor has been added.
    void finalize();

    struct Entry {
        std::string name, source;
        std::vector<int> extents;
        int64_t offset = 0, floats = 0;
    };
    bool external() const { return external_; }
    WeightsDType dtype() const { return dtype_; }
    int64_t blob_bytes() const { return blob_floats_ * (dtype_ == WeightsDType::F16 ? 2 : 4); }
    const std::vector<Entry> &entries() const { return entries_; }
    int64_t total_floats() const { return total_floats_; }  // sum of tensor sizes
    int64_t blob_floats() const { return blob_floats_; }    // with alignment padding
    // External mode: the blob contents (N.weights payload). Empty in embedded mode.
    const std::vector<float> &payload() const { return payload_; }
    const Halide::ImageParam &input() const { return input_; }  // external mode only

private:
    bool external_;
    WeightsDType dtype_;
    Halide::Func blob_{"weights_blob"};
    Halide::ImageParam input_;
    Halide::Buffer<float> embedded_;
    Halide::Buffer<uint16_t> embedded_f16_;  // float16 bit patterns
    std::vector<float> payload_;
    std::vector<Entry> entries_;
    int64_t total_floats_ = 0, blob_floats_ = 0;
};

// Weights of the pointwise (1x1) convolutions and of the classifier are stored blocked by
// kWeightBlock output channels (classes): extents (kWeightBlock, Cin, ceil(Cout /
// kWeightBlock)), zero-padded, element (c % B, ci, c / B). A register tile of output
// channels then reads, per input channel, whole 64-byte lines that follow each other in
// memory, one sequential stream per block, instead of a slice of a Cout-long row at a stride
// of Cout floats. 16 floats: one AVX-512 vector, two AVX2 and four NEON vectors; schedules
// choose channel tiles that are multiples or divisors of it (schedules/templates.cpp).
constexpr int kWeightBlock = 16;

enum class ConvKind { Dense, Depthwise };

// One fused conv op: pre = conv(x) + bias; out = relu?(pre * se_scale?).
struct LoweredConv {
    std::string name;      // the graph op's name, e.g. "stage2.7"
    ConvKind kind = ConvKind::Dense;
    bool from_image = false;  // reads the NCHW pipeline input (the stem)
    int cin = 0, cout = 0, kernel = 1, stride = 1, pad = 0;
    int batch = 1, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
    bool relu = false;

    Halide::Func pre;  // Dense: pure init (bias) + one update over `r`. Depthwise: pure.
    Halide::RDom r;    // Dense: (ci) for 1x1, else (ci, kx, ky)
    Halide::Func padded;  // the zero-padded source it reads (undefined when pad == 0)

    bool has_se = false;
    int se_channels = 0;
    Halide::Func se_sum;     // (c, n): sum over H, W of pre; init + update over se_hw
    Halide::Func se_reduce;  // (c = j, n): reduce conv + bias, before its ReLU; update over se_rc
    Halide::Func se_expand;  // (c, n): expand conv + bias; update over se_rj
    Halide::Func se_scale;   // (c, n): sigmoid(se_expand)
    Halide::RDom se_hw, se_rc, se_rj;

    Halide::Func out;  // what the next op reads: (c, x, y, n)
};

// The head: global average pool then linear.
struct LoweredHead {
    std::string name;
    int features = 0, classes = 0, batch = 1, in_h = 0, in_w = 0;
    Halide::Func pool;    // (c, n) sum over H, W; update over hw
    Halide::RDom hw;
    Halide::Func linear;  // (k, n): bias + W * mean; update over rf
    Halide::RDom rf;
    Halide::Func logits;  // (k, n): the pipeline output, = linear
};

struct LoweredPipeline {
    // Activations are f(c, x, y, n) (channels innermost); the logits are f(k, n).
    Halide::Var c{"c"}, x{"x"}, y{"y"}, n{"n"}, k{"k"};
    Halide::ImageParam input;  // (x, y, c, n) float32: the NCHW input as Halide sees it
    WeightStore weights;
    std::vector<LoweredConv> convs;
    LoweredHead head;
    Halide::Func output;  // == head.logits, output buffer constrained to (classes, batch)
    InputShape shape;
    int num_classes = 0;

    explicit LoweredPipeline(bool external, WeightsDType dtype = WeightsDType::F32)
        : weights(external, dtype) {}
    // Pipeline arguments in the order of the generated function (after user_context):
    // input, [weights blob].
    std::vector<Halide::Argument> arguments() const;
};

// Lowers a graph in codegen form (passes/pipeline.h: check_codegen_form) for `shape`.
// Throws m1c::Error on a graph it cannot lower (not a chain, grouped convs other than
// depthwise, shapes that disagree with `shape`).
// F16 weights: throws m1c::Error if a weight is outside float16's range (|w| > 65504).
LoweredPipeline lower(const Graph &fused, const InputShape &shape, bool external_weights,
                      WeightsDType weights_dtype = WeightsDType::F32);

}  // namespace m1c::codegen
