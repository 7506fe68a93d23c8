#include "frontend/safetensors.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"

// Files store little-endian elements and we copy them with memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "m1c assumes a little-endian host");

namespace m1c {
namespace {

// The reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct DTypeName {
    const char *name;
    SourceDType dtype;
};
const DTypeName kDTypeNames[] = {
    {"F32", SourceDType::F32}, {"F16", SourceDType::F16}, {"BF16", SourceDType::BF16},
    {"F64", SourceDType::F64}, {"I64", SourceDType::I64}, {"I32", SourceDType::I32},
    {"I16", SourceDType::I16}, {"I8", SourceDType::I8},   {"U8", SourceDType::U8},
    {"BOOL", SourceDType::Bool},
};

float half_to_float(uint16_t h) {
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    uint32_t bits;
    if (exponent == 0x1f) bits = sign | 0x7f800000u | (mantissa << 13);  // inf / nan
    else bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

template <typename T>
void convert(const uint8_t *src, size_t count, float *dst) {
    for (size_t i = 0; i < count; ++i) {
        T v;
        std::memcpy(&v, src + i * sizeof(T), sizeof(T));
        dst[i] = static_cast<float>(v);
    }
}

// Multiplies non-negative values, returning false on overflow of int64.
bool checked_mul(uint64_t a, uint64_t b, uint64_t &out) {
    if (a != 0 && b > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / a) return false;
    out = a * b;
    return true;
}

uint64_t read_u64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

void read_exactly(std::ifstream &in, const std::string &path, uint64_t offset, void *dst,
                  uint64_t n) {
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(static_cast<char *>(dst), static_cast<std::streamsize>(n));
    if (!in) throw Error(path + ": read failed at byte " + std::to_string(offset));
}

// One tensor's entry of the header, validated against the size of the data section.
struct Entry {
    SourceDType dtype;
    Shape shape;
    uint64_t begin = 0, end = 0;
};

// A shape array for messages. Nested arrays are not printed: dump() recurses once per level
// and a 100 MB header can nest millions deep (a stack overflow, found by fuzzing).
std::string shape_for_message(const nlohmann::json &shape) {
    for (const auto &d : shape)
        if (d.is_structured()) return "(with a nested " + std::string(d.type_name()) + ")";
    return shape.dump();
}

Entry parse_entry(const std::string &path, const std::string &name, const nlohmann::json &j,
                  uint64_t data_size) {
    const std::string where = path + ": tensor '" + name + "'";
    if (!j.is_object()) throw Error(where + ": header entry is not a JSON object");

    const auto dtype_it = j.find("dtype");
    if (dtype_it == j.end() || !dtype_it->is_string()) throw Error(where + ": no dtype string");
    const std::string dtype = dtype_it->get<std::string>();
    Entry e{};
    bool known = false;
    for (const auto &d : kDTypeNames) {
        if (dtype == d.name) {
            e.dtype = d.dtype;
            known = true;
        }
    }
    if (!known) throw Error(where + ": dtype " + dtype + " is not supported");

    const auto shape_it = j.find("shape");
    if (shape_it == j.end() || !shape_it->is_array()) throw Error(where + ": no shape array");
    uint64_t numel = 1;
    for (const auto &d : *shape_it) {
        if (!d.is_number_unsigned())
            throw Error(where + ": shape " + shape_for_message(*shape_it) +
                        " must hold non-negative integers");
        const auto dim = d.get<uint64_t>();
        if (!checked_mul(numel, dim, numel))
            throw Error(where + ": shape " + shape_for_message(*shape_it) + " overflows");
        e.shape.push_back(static_cast<int64_t>(dim));
    }

    const auto offsets_it = j.find("data_offsets");
    if (offsets_it == j.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
        throw Error(where + ": data_offsets must be two non-negative integers");
    e.begin = (*offsets_it)[0].get<uint64_t>();
    e.end = (*offsets_it)[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
        throw Error(where + ": data_offsets " + offsets_it->dump() +
                    " are outside the data section of " + std::to_string(data_size) + " bytes");
    uint64_t bytes = 0;
    if (!checked_mul(numel, element_size(e.dtype), bytes) || bytes != e.end - e.begin)
        throw Error(where + ": data_offsets " + offsets_it->dump() + " span " +
                    std::to_string(e.end - e.begin) + " bytes but " + dtype + " " +
                    shape_str(e.shape) + " needs " + std::to_string(numel) + " x " +
                    std::to_string(element_size(e.dtype)));
    return e;
}

void write_u64_le(std::string &out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

size_t element_size(SourceDType dtype) {
    switch (dtype) {
    case SourceDType::F64:
    case SourceDType::I64: return 8;
    case SourceDType::F32:
    case SourceDType::I32: return 4;
    case SourceDType::F16:
    case SourceDType::BF16:
    case SourceDType::I16: return 2;
    case SourceDType::I8:
    case SourceDType::U8:
    case SourceDType::Bool: return 1;
    }
    return 1;
}

void decode_elements(SourceDType dtype, const uint8_t *src, size_t count, float *dst) {
    if (count == 0) return;  // empty tensors may have null buffers
    switch (dtype) {
    case SourceDType::F32: std::memcpy(dst, src, count * sizeof(float)); return;
    case SourceDType::F64: convert<double>(src, count, dst); return;
    case SourceDType::I64: convert<int64_t>(src, count, dst); return;
    case SourceDType::I32: convert<int32_t>(src, count, dst); return;
    case SourceDType::I16: convert<int16_t>(src, count, dst); return;
    case SourceDType::I8: convert<int8_t>(src, count, dst); return;
    case SourceDType::U8: convert<uint8_t>(src, count, dst); return;
    case SourceDType::Bool:
        for (size_t i = 0; i < count; ++i) dst[i] = src[i] ? 1.0f : 0.0f;
        return;
    case SourceDType::F16:
        for (size_t i = 0; i < count; ++i)
            dst[i] = half_to_float(static_cast<uint16_t>(src[2 * i] | (src[2 * i + 1] << 8)));
        return;
    case SourceDType::BF16:  // the upper half of a float32
        for (size_t i = 0; i < count; ++i) {
            const uint32_t bits = static_cast<uint32_t>(src[2 * i] | (src[2 * i + 1] << 8)) << 16;
            std::memcpy(&dst[i], &bits, sizeof(float));
        }
        return;
    }
}

bool looks_like_safetensors(const uint8_t *head, size_t head_size) {
    return head_size >= 9 && head[8] == '{';
}

TensorMap read_safetensors(const std::string &path) {
    std::error_code ec;
    const uint64_t file_size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read file: " + ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
    if (file_size < 8) throw Error(path + ": too short for a safetensors header");

    uint8_t length_bytes[8];
    read_exactly(in, path, 0, length_bytes, 8);
    const uint64_t header_size = read_u64_le(length_bytes);
    if (header_size > file_size - 8)
        throw Error(path + ": safetensors header length " + std::to_string(header_size) +
                    " runs past the end of the file (" + std::to_string(file_size) + " bytes)");
    if (header_size > kMaxHeaderBytes)
        throw Error(path + ": safetensors header of " + std::to_string(header_size) +
                    " bytes is larger than the 100 MB limit");

    std::string header(static_cast<size_t>(header_size), '\0');
    read_exactly(in, path, 8, header.data(), header_size);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception &e) {
        throw Error(path + ": safetensors header is not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(path + ": safetensors header is not a JSON object");

    const uint64_t data_start = 8 + header_size;
    const uint64_t data_size = file_size - data_start;
    TensorMap tensors;
    std::vector<uint8_t> bytes;
    for (const auto &[name, item] : j.items()) {
        if (name == "__metadata__") continue;  // free-form strings, not tensors
        const Entry e = parse_entry(path, name, item, data_size);
        bytes.resize(static_cast<size_t>(e.end - e.begin));
        read_exactly(in, path, data_start + e.begin, bytes.data(), bytes.size());
        Tensor t;
        t.shape = e.shape;
        t.source_dtype = e.dtype;
        t.data.resize(bytes.size() / element_size(e.dtype));
        decode_elements(e.dtype, bytes.data(), t.data.size(), t.data.data());
        tensors[name] = std::move(t);
    }
    return tensors;
}

void write_safetensors(const std::string &path, const TensorMap &tensors) {
    nlohmann::json header = nlohmann::json::object();  // std::map underneath: keys sorted
    uint64_t offset = 0;
    for (const auto &[name, t] : tensors) {
        for (int64_t d : t.shape)
            if (d < 0) throw Error(path + ": tensor '" + name + "' has a negative dimension");
        if (numel(t.shape) != t.numel())
            throw Error(path + ": tensor '" + name + "' has shape " + shape_str(t.shape) +
                        " but " + std::to_string(t.numel()) + " values");
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
        header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // so the data starts 8-byte aligned

    std::string prefix;
    write_u64_le(prefix, text.size());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto &[name, t] : tensors)  // same (sorted) order as the offsets above
        out.write(reinterpret_cast<const char *>(t.data.data()),
                  static_cast<std::streamsize>(t.data.size() * sizeof(float)));
    out.close();
    if (!out) throw Error(path + ": write failed: " + std::strerror(errno));
}

}  // namespace m1c
