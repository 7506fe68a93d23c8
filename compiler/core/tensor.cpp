#include "core/tensor.h"

#include <sstream>

namespace m1c {

const char *dtype_name(SourceDType t) {
    switch (t) {
    case SourceDType::F32: return "float32";
    case SourceDType::F16: return "float16";
    case SourceDType::BF16: return "bfloat16";
    case SourceDType::F64: return "float64";
    case SourceDType::I64: return "int64";
    case SourceDType::I32: return "int32";
    case SourceDType::I16: return "int16";
    case SourceDType::I8: return "int8";
    case SourceDType::U8: return "uint8";
    case SourceDType::Bool: return "bool";
    }
    return "?";
}

Tensor Tensor::zeros(Shape s) {
    std::vector<float> d(static_cast<size_t>(m1c::numel(s)), 0.0f);
    return Tensor(std::move(s), std::move(d));
}

int64_t numel(const Shape &shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_str(const Shape &shape) {
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << ']';
    return os.str();
}

}  // namespace m1c
