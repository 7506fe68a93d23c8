// WeightStore: every weight tensor of a lowered pipeline packed into one float32 blob (and,
// for int8 pipelines, one int8 blob), embedded as constant Buffers or passed in as
// ImageParams (external mode). See lowered.h.
#include <algorithm>
#include <cmath>

#include "codegen/lowered.h"
#include "core/error.h"

namespace m1c::codegen {

Halide::Expr WeightRef::operator()(const std::vector<Halide::Expr> &index) const {
    Halide::Expr flat = 0;
    for (size_t i = index.size(); i-- > 0;) flat = flat * extents[i] + index[i];
    return blob(Halide::Expr(static_cast<int>(offset)) + flat);
}

WeightStore::WeightStore(bool external, WeightsDType dtype) : external_(external), dtype_(dtype) {
    if (external_ && dtype_ != WeightsDType::F32)
        throw Error("codegen: float16 weights are supported with embedded weights only");
    if (external_) {
        input_ = Halide::ImageParam(Halide::Float(32), 1, "weights");
        input_i8_ = Halide::ImageParam(Halide::Int(8), 1, "weights_i8");
    }
}

namespace {
int64_t element_count(const std::string &name, const std::vector<int> &extents, size_t values) {
    int64_t count = 1;
    for (int e : extents) count *= e;
    if (count != int64_t(values))
        throw Error("codegen: weight " + name + ": " + std::to_string(values) + " values for " +
                    std::to_string(count) + " elements");
    return count;
}
}  // namespace

WeightRef WeightStore::add(const std::string &name, std::vector<int> extents,
                           std::vector<float> values, const std::string &source) {
    const int64_t count = element_count(name, extents, values.size());
    // 16-float (64-byte) aligned slices: vector loads of each tensor start aligned.
    const int64_t offset = (int64_t(payload_.size()) + 15) / 16 * 16;
    if (offset + count >= (int64_t(1) << 31))
        throw Error("codegen: weights beyond 2^31 floats are not supported");
    payload_.resize(size_t(offset), 0.0f);
    payload_.insert(payload_.end(), values.begin(), values.end());
    WeightRef ref;
    ref.name = name;
    ref.extents = extents;
    ref.offset = offset;
    ref.blob = blob_;
    total_floats_ += count;
    entries_.push_back(Entry{name, source, std::move(extents), offset, count, false});
    return ref;
}

WeightRef WeightStore::add_i8(const std::string &name, std::vector<int> extents,
                              std::vector<int8_t> values, const std::string &source) {
    const int64_t count = element_count(name, extents, values.size());
    // 64-byte aligned slices: a register tile's weight vectors are whole cache lines.
    const int64_t offset = (int64_t(payload_i8_.size()) + 63) / 64 * 64;
    if (offset + count >= (int64_t(1) << 31))
        throw Error("codegen: int8 weights beyond 2^31 bytes are not supported");
    payload_i8_.resize(size_t(offset), 0);
    payload_i8_.insert(payload_i8_.end(), values.begin(), values.end());
    WeightRef ref;
    ref.name = name;
    ref.extents = extents;
    ref.offset = offset;
    ref.blob = blob_i8_;
    total_i8_ += count;
    entries_.push_back(Entry{name, source, std::move(extents), offset, count, true});
    return ref;
}

void WeightStore::finalize() {
    Halide::Var i("i");
    blob_floats_ = int64_t(payload_.size());
    blob_i8_bytes_ = int64_t(payload_i8_.size());
    const int size = static_cast<int>(std::max<int64_t>(blob_floats_, 1));
    const int size_i8 = static_cast<int>(std::max<int64_t>(blob_i8_bytes_, 1));
    if (external_) {
        input_.dim(0).set_bounds(0, size).set_stride(1);
        blob_(i) = input_(i);
        if (blob_i8_bytes_ > 0) {
            input_i8_.dim(0).set_bounds(0, size_i8).set_stride(1);
            blob_i8_(i) = input_i8_(i);
        }
        return;
    }
    if (blob_i8_bytes_ > 0) {
        embedded_i8_ = Halide::Buffer<int8_t>(size_i8, "m1c_weights_i8");
        std::copy(payload_i8_.begin(), payload_i8_.end(), embedded_i8_.data());
        blob_i8_(i) = embedded_i8_(i);
        std::vector<int8_t>().swap(payload_i8_);
    }
    if (dtype_ == WeightsDType::F16) {
        // Stored as float16, read as float32: the cast is where the pipeline loads a weight.
        for (const Entry &e : entries_)
            for (int64_t j = 0; !e.int8 && j < e.floats; ++j)
                if (!(std::fabs(payload_[size_t(e.offset + j)]) <= 65504.0f))
                    throw Error("--weights-dtype f16: " + e.source + " holds " +
                                std::to_string(payload_[size_t(e.offset + j)]) +
                                ", outside float16's range (|w| <= 65504)");
        // The float16 bits (rounded to nearest even), widened in a few vector ops that are
        // exact for every finite float16: the magnitude bits moved into float32's exponent
        // and mantissa fields give the value times 2^-112 (subnormals included), the multiply
        // rescales it, the sign goes back on. (Halide 14's own float16 cast is several times
        // as many integer ops on x86 and ARM.)
        embedded_f16_ = Halide::Buffer<uint16_t>(size, "m1c_weights_f16");
        for (int64_t j = 0; j < blob_floats_; ++j)
            embedded_f16_(int(j)) = Halide::float16_t(payload_[size_t(j)]).to_bits();
        Halide::Expr h = Halide::cast<uint32_t>(embedded_f16_(i));
        Halide::Expr magnitude = Halide::reinterpret<float>((h & 0x7fffu) << 13) * 0x1p112f;
        blob_(i) = Halide::reinterpret<float>(Halide::reinterpret<uint32_t>(magnitude) |
                                              ((h & 0x8000u) << 16));
        std::vector<float>().swap(payload_);
    } else {
        embedded_ = Halide::Buffer<float>(size, "m1c_weights");
        std::copy(payload_.begin(), payload_.end(), embedded_.data());
        blob_(i) = embedded_(i);
        std::vector<float>().swap(payload_);  // the Buffer holds them now
    }
}

}  // namespace m1c::codegen
