// The .safetensors format: an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {...}}
// then the raw little-endian tensor data, offsets relative to the end of the header.
// Also here: decoding little-endian elements of each dtype to float32, which torch storages
// (raw little-endian arrays too) share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace m1c {

// Bytes per element of `dtype` in a file.
size_t element_size(SourceDType dtype);

// Converts `count` little-endian elements of `dtype` at `src` to float32 at `dst`.
// (int64 values beyond 2^24 lose precision, as they would in torch's .float().)
void decode_elements(SourceDType dtype, const uint8_t *src, size_t count, float *dst);

// True if the first bytes of a file (`head`, `head_size` of them) start like a safetensors
// file: the JSON header opens with '{' right after the 8-byte length.
bool looks_like_safetensors(const uint8_t *head, size_t head_size);

// Reads every tensor of a .safetensors file. Validates the header length, the JSON, every
// dtype, shape and offset range against the file before reading. Throws m1c::Error naming
// the path (and the tensor) on any problem.
TensorMap read_safetensors(const std::string &path);

// Writes `tensors` as float32, keys sorted, header padded with spaces to 8-byte alignment.
void write_safetensors(const std::string &path, const TensorMap &tensors);

}  // namespace m1c
