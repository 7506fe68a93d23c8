// Section sizes of a static library (ar archive of ELF64 objects, as Halide writes for the
// Linux, Android and "noos" targets): how much is code and how much is read-only data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace m1c::codegen {

struct ObjectSizes {
    bool known = false;       // false: not an archive of ELF64 little-endian objects (e.g. Mach-O)
    int64_t code_bytes = 0;   // executable sections (the pipeline and Halide's runtime)
    int64_t rodata_bytes = 0; // allocated, read-only, not executable (embedded weights live here)
    int64_t data_bytes = 0;   // allocated, writable, with contents (.data)
    int64_t bss_bytes = 0;    // allocated, writable, zero-initialised (.bss)
};

// Throws m1c::Error if the file cannot be read; a readable file in another format gives
// known = false.
ObjectSizes static_library_sizes(const std::string &path);

// The executable sections of the archive's ELF64 members (their bytes), for isa_check.h.
// Empty if the file is not an archive of little-endian ELF64 objects.
std::vector<std::vector<unsigned char>> static_library_code(const std::string &path);

}  // namespace m1c::codegen
