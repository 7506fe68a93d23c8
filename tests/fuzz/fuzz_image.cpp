// libFuzzer target: PNG/JPEG decoding from memory (decode_image_memory: sniffing, size
// caps, stb_image) and, for what decodes, the torchvision-exact resize + centre crop +
// normalisation at two small output sizes (one square, one not).
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "image_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    m1c::RgbImage image;
    try {
        image = m1c::decode_image_memory(data, size, "fuzz-image");
    } catch (const m1c::Error &) {
        return 0;
    }
    if (image.width < 1 || image.height < 1 ||
        image.pixels.size() != size_t(image.width) * size_t(image.height) * 3)
        __builtin_trap();
    try {
        const std::vector<float> a = m1c::imagenet_preprocess(image, 32, 32);
        const std::vector<float> b = m1c::imagenet_preprocess(image, 64, 32);
        if (a.size() != 3 * 32 * 32 || b.size() != 3 * 64 * 32) __builtin_trap();
    } catch (const m1c::Error &) {
        __builtin_trap();  // a decoded image must always preprocess
    }
    return 0;
}
