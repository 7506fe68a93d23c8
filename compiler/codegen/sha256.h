// SHA-256 (FIPS 180-4), for the manifest's weight fingerprints. Self-contained: m1c links
// no crypto library, and a checksum of a file is all it needs (not security-critical).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace m1c {

class Sha256 {
public:
    Sha256();
    void update(const void *data, size_t bytes);
    std::array<uint8_t, 32> digest();  // finalises; the object is spent afterwards

private:
    void block(const uint8_t *p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

std::string hex(const std::array<uint8_t, 32> &digest);
// Hex digest of a file's bytes; throws m1c::Error if it cannot be read.
std::string sha256_file(const std::string &path);

}  // namespace m1c
