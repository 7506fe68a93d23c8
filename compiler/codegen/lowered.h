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

// Every weight tensor of the pipeline, in creation order, and the blobs holding them: the
// float32 blob (every float tensor) and, in int8 pipelines, the int8 blob (quantized
// convolution and classifier weights).
class WeightStore {
public:
    explicit WeightStore(bool external, WeightsDType dtype = WeightsDType::F32);

    // Copies `values` (laid out as described at WeightRef) in; `source` says where it came
    // from (op name and role), for the manifest.
    WeightRef add(const std::string &name, std::vector<int> extents, std::vector<float> values,
                  const std::string &source);
    // The same for an int8 tensor, into the int8 blob (64-byte aligned slices).
    WeightRef add_i8(const std::string &name, std::vector<int> extents,
                     std::vector<int8_t> values, const std::string &source);
    // Defines the blobs once every tensor has been added.
    void finalize();

    struct Entry {
        std::string name, source;
        std::vector<int> extents;
        int64_t offset = 0, floats = 0;  // elements of the tensor's blob
        bool int8 = false;               // in the int8 blob
    };
    bool external() const { return external_; }
    WeightsDType dtype() const { return dtype_; }
    // Bytes of both blobs.
    int64_t blob_bytes() const {
        return blob_floats_ * (dtype_ == WeightsDType::F16 ? 2 : 4) + blob_i8_bytes_;
    }
    const std::vector<Entry> &entries() const { return entries_; }
    int64_t total_floats() const { return total_floats_; }  // sum of float tensor sizes
    int64_t blob_floats() const { return blob_floats_; }    // with alignment padding
    int64_t total_i8() const { return total_i8_; }          // sum of int8 tensor sizes
    int64_t blob_i8_bytes() const { return blob_i8_bytes_; }  // with alignment padding
    // External mode: the blob contents (N.weights payload). Empty in embedded mode.
    const std::vector<float> &payload() const { return payload_; }
    const std::vector<int8_t> &payload_i8() const { return payload_i8_; }
    const Halide::ImageParam &input() const { return input_; }        // external mode only
    const Halide::ImageParam &input_i8() const { return input_i8_; }  // external int8 only

private:
    bool external_;
    WeightsDType dtype_;
    Halide::Func blob_{"weights_blob"};
    Halide::Func blob_i8_{"weights_i8_blob"};
    Halide::ImageParam input_, input_i8_;
    Halide::Buffer<float> embedded_;
    Halide::Buffer<uint16_t> embedded_f16_;  // float16 bit patterns
    Halide::Buffer<int8_t> embedded_i8_;
    std::vector<float> payload_;
    std::vector<int8_t> payload_i8_;
    std::vector<Entry> entries_;
    int64_t total_floats_ = 0, blob_floats_ = 0, total_i8_ = 0, blob_i8_bytes_ = 0;
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
    int dilation = 1;  // taps dilation apart (--output-stride)
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

    // int8 pipelines (lower_int8.cpp): `pre` is the int32 accumulator (stored 8-bit codes
    // times int8 weights), `r` has the 4 (or 2) input channels of one dot product as its
    // innermost dimension, `out` holds stored 8-bit codes. With squeeze-excite, `dequant`
    // is the real (float) value of `pre` that the SE mean and the scaled output read.
    Halide::Func dequant;
    int stored_channels = 0;  // int8: channels computed (cout rounded up to 16); 0: cout
    bool dot4 = false;        // int8: a dense conv whose r[0] is a 4-group of a dot product
    int channels() const { return stored_channels > 0 ? stored_channels : cout; }
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
    // int8: `pool` sums stored codes in int32, `pooled` (c, n) is the mean quantized to a
    // stored 8-bit code, `linear` the int32 dot products over `rf`, `logits` dequantized.
    Halide::Func pooled;
};

// A feature map output of a backbone build: the NCHW float32 copy of a conv op's output
// (lower_features.cpp), Halide dims (x, y, c, n), dense.
struct LoweredFeature {
    std::string name;  // "stage1".."stage4"
    int conv = -1;     // index into LoweredPipeline::convs of the op it copies
    int n = 1, c = 0, h = 0, w = 0;
    Halide::Func out;
};

enum class Precision { F32, Int8 };

struct LoweredPipeline {
    // Activations are f(c, x, y, n) (channels innermost); the logits are f(k, n).
    Halide::Var c{"c"}, x{"x"}, y{"y"}, n{"n"}, k{"k"};
    Halide::ImageParam input;  // (x, y, c, n) float32: the NCHW input as Halide sees it
    WeightStore weights;
    std::vector<LoweredConv> convs;
    LoweredHead head;
    Halide::Func output;  // == head.logits, output buffer constrained to (classes, batch)
    // Backbone builds: the feature outputs instead of `output` (undefined, and no head).
    std::vector<LoweredFeature> features;
    InputShape shape;
    int num_classes = 0;
    Precision precision = Precision::F32;
    // int8: how 8-bit activations are stored: code q in [0, 255] as q + act_offset in
    // act_type; UInt(8) with offset 0 (x86: vpdpbusd takes u8 x s8), or Int(8) with offset
    // -128 (ARM: sdot takes s8 x s8, Halide 14 has no mixed-sign dot product there).
    Halide::Type act_type = Halide::UInt(8);
    int act_offset = 0;

    explicit LoweredPipeline(bool external, WeightsDType dtype = WeightsDType::F32)
        : weights(external, dtype) {}
    // Pipeline arguments in the order of the generated function (after user_context):
    // input, [weights blob].
    std::vector<Halide::Argument> arguments() const;
    // What the pipeline returns, in the order of the generated function's output buffers:
    // the logits, or the feature maps of a backbone build.
    std::vector<Halide::Func> outputs() const;
};

// Backbone builds (lower_features.cpp): defines p.features from g.features, each the NCHW
// copy of the conv op writing that value (int8: dequantized), output buffers fixed to its shape.
void lower_feature_outputs(LoweredPipeline &p, const Graph &g);

// The real value of conv `L`'s output (graph value `v`) at (c, x, y, n): itself (float32),
// or its stored 8-bit code dequantized, (code - stored zero) * scale (int8).
Halide::Expr real_value(const LoweredPipeline &p, const LoweredConv &L, const Value &v);

// Lowers a graph in codegen form (passes/pipeline.h: check_codegen_form) for `shape`.
// Throws m1c::Error on a graph it cannot lower (not a chain, grouped convs other than
// depthwise, shapes that disagree with `shape`).
// F16 weights: throws m1c::Error if a weight is outside float16's range (|w| > 65504).
LoweredPipeline lower(const Graph &fused, const InputShape &shape, bool external_weights,
                      WeightsDType weights_dtype = WeightsDType::F32);

// int8 (lower_int8.cpp): a graph whose values carry quantization (passes/annotate_int8.h).
bool is_int8_graph(const Graph &g);
struct Int8Coding {
    Halide::Type type;  // LoweredPipeline::act_type
    int offset = 0;     // LoweredPipeline::act_offset
};
Int8Coding int8_coding_for(const Halide::Target &target);
// Lowers an int8 graph for `target` (which decides how activations are stored). Throws
// m1c::Error as lower() does, and for values without quantization.
LoweredPipeline lower_int8(const Graph &fused, const InputShape &shape, bool external_weights,
                           const Halide::Target &target);

// lower() or lower_int8(), as the graph says (float16 weights: float graphs only).
LoweredPipeline lower_any(const Graph &fused, const InputShape &shape, bool external_weights,
                          WeightsDType weights_dtype, const Halide::Target &target);

}  // namespace m1c::codegen
