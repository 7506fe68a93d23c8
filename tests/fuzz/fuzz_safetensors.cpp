// libFuzzer target: the .safetensors reader (8-byte header length, JSON header, dtypes,
// shapes, data offsets checked against the file), then detection and the weight check as in
// fuzz_torch_zip.cpp. read_safetensors() is called directly (not load_checkpoint) so that
// inputs whose 9th byte is not '{' still reach the header checks.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "frontend/detect_spec.h"
#include "frontend/safetensors.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static m1c::fuzz::ScratchFile file("safetensors");
    const std::string &path = file.write(data, size);
    m1c::TensorMap tensors;
    try {
        tensors = m1c::read_safetensors(path);
    } catch (const m1c::Error &) {
        return 0;
    }
    m1c::fuzz::inspect_tensors(tensors, path);
    return 0;
}
