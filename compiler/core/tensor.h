// A dense float32 tensor in row-major (C) order, as PyTorch stores a contiguous tensor.
// Every checkpoint reader converts to this (float16/bfloat16/float64/int64 storages are
// converted on load), so the rest of the compiler deals with one element type only.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace m1c {

using Shape = std::vector<int64_t>;

// The element type the tensor had in its file, kept for reports and messages only.
enum class SourceDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };
const char *dtype_name(SourceDType t);

struct Tensor {
    Shape shape;
    std::vector<float> data;  // row-major, data.size() == numel(shape)
    SourceDType source_dtype = SourceDType::F32;

    Tensor() = default;
    Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
    static Tensor zeros(Shape s);

    int64_t numel() const { return static_cast<int64_t>(data.size()); }
    int64_t dim(size_t i) const { return shape.at(i); }
};

int64_t numel(const Shape &shape);
std::string shape_str(const Shape &shape);  // "[64, 3, 3, 3]"

// A state dict: parameter name -> tensor, ordered by name.
using TensorMap = std::map<std::string, Tensor>;

}  // namespace m1c
