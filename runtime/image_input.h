// Images as network input: PNG/JPEG decoding (stb_image, header-only from Debian's
// libstb-dev; nothing to link) and the ImageNet evaluation preprocessing of torchvision
// (Resize(256) + CenterCrop(224) + ToTensor + Normalize) on PIL images, reproduced exactly:
//
//  * Colour: grey is replicated to RGB, alpha is dropped (as PIL's convert("RGB")), a palette
//    is expanded. 16-bit PNGs are reduced to 8 bits.
//  * Resize: PIL's BILINEAR resampling, which antialiases when downscaling: a triangle
//    filter whose support is scaled by the downscale factor (area-weighted), separable,
//    horizontal pass first, 8-bit intermediate, PIL's 22-bit fixed-point coefficients and
//    rounding. Upscaling uses the same code (the triangle is then plain bilinear). Output
//    matches torchvision + PIL bit for bit on the same decoded pixels (JPEG decoders differ
//    slightly: stb_image vs libjpeg-turbo give pixel values within a few levels).
//  * Sizes for a target H x W (generalising 224x224): the image is resized, keeping its
//    aspect ratio, so that the crop covers 224/256 of it along the tighter axis; that axis
//    becomes round(T * 256 / 224) pixels (T = H or W) and the other int(that * ratio), as
//    torchvision truncates. For 224x224 this is exactly "shorter side to 256".
//  * Crop: centred, offsets int(round((size - crop) / 2)) with Python's round-half-even.
//  * Values: v / 255 then (x - mean) / std per channel in float32, NCHW.
// Only the part of the resized image inside the crop is computed, so a very elongated
// image cannot blow up memory; the result is the same.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace m1c {

constexpr float kImagenetMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImagenetStd[3] = {0.229f, 0.224f, 0.225f};
constexpr int kMaxImageSide = 16384;                   // larger images are refused
constexpr uint64_t kMaxImageFileBytes = 1ull << 30;   // and so are files over 1 GiB

// What a file holds, by its first bytes (not its name).
enum class FileKind { Npy, Png, Jpeg, Unknown };
FileKind sniff_file_kind(const std::string &path);  // throws if the file cannot be read
const char *file_kind_name(FileKind kind);          // "npy", "PNG", "JPEG", "unknown"

// 8-bit RGB, row-major, interleaved (HWC).
struct RgbImage {
    int width = 0, height = 0;
    std::vector<uint8_t> pixels;  // width * height * 3
};

// Decodes a PNG or JPEG file (chosen by content). Throws m1c::Error naming the path for a
// missing file, another format, corrupt or truncated data, or a side over kMaxImageSide.
RgbImage decode_image(const std::string &path);
// Same from memory; `name` is what error messages say.
RgbImage decode_image_memory(const uint8_t *data, size_t size, const std::string &name);

// Resize and crop geometry for a source image and target size (see above).
struct ResizeCrop {
    int resized_height = 0, resized_width = 0;  // the (virtual) resized image
    int top = 0, left = 0;                      // crop offset inside it
};
ResizeCrop plan_resize_crop(int src_height, int src_width, int out_height, int out_width);

// PIL-compatible antialiased bilinear resize of the window `plan` selects: returns
// out_height x out_width RGB8. Exposed for tests.
RgbImage resize_crop_rgb(const RgbImage &src, int out_height, int out_width);

// Full preprocessing: returns 3 * out_height * out_width floats (one NCHW item).
std::vector<float> imagenet_preprocess(const RgbImage &image, int out_height, int out_width);

// decode_image + imagenet_preprocess.
std::vector<float> load_image_nchw(const std::string &path, int out_height, int out_width);

}  // namespace m1c
