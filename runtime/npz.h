// NumPy .npz files (a zip of .npy members, stored uncompressed, as numpy.savez writes
// them): what `m1c run --features ... --output F.npz` writes, one array per feature map.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace m1c {

struct NpzMember {
    std::string name;            // array name; the member is "<name>.npy"
    std::vector<int64_t> shape;
    const float *data = nullptr; // product(shape) floats, C order
};

// Writes the arrays through a temporary file renamed into place (libzip; zip64 when a
// member needs it). Throws m1c::Error naming `path` on I/O failure.
void write_npz(const std::string &path, const std::vector<NpzMember> &members);

}  // namespace m1c
