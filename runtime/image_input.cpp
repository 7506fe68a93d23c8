// PNG/JPEG decoding (stb_image) and torchvision/PIL-exact ImageNet preprocessing.
// See image_input.h for the rules; PIL's resampling is in libImaging/Resample.c.
#include "image_input.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/error.h"

// stb_image, header-only (Debian's libstb-dev ships the header with its implementation):
// PNG and JPEG only, from memory only, every function static to this file so no other copy
// of stb in the final binary can clash with it. stb's own dimension cap (STBI_MAX_DIMENSIONS,
// 2^24) is left as is so that stbi_info reports an oversized header and we refuse it with a
// clear message (kMaxImageSide) before decoding anything.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
// Zeroed allocations: stb_image 2.27 decodes a scan with whatever Huffman table it names, even
// one the file never defined, and would read that table from uninitialised memory (then index
// far out of bounds with it; found by fuzzing). Zeroed, an undefined table decodes as symbol 0.
#define STBI_MALLOC(size) calloc(1, size)
#define STBI_REALLOC(p, size) realloc(p, size)
#define STBI_FREE(p) free(p)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace m1c {
namespace {

const unsigned char kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
const unsigned char kJpegMagic[3] = {0xff, 0xd8, 0xff};
const unsigned char kNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

FileKind kind_of_bytes(const uint8_t *p, size_t n) {
    if (n >= 6 && std::memcmp(p, kNpyMagic, 6) == 0) return FileKind::Npy;
    if (n >= 8 && std::memcmp(p, kPngMagic, 8) == 0) return FileKind::Png;
    if (n >= 3 && std::memcmp(p, kJpegMagic, 3) == 0) return FileKind::Jpeg;
    return FileKind::Unknown;
}

void check_regular_file(const std::string &path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error(path + ": no such file");
    if (!std::filesystem::is_regular_file(status)) throw Error(path + ": not a regular file");
}

// A JPEG whose last scan is not followed by an end-of-image marker was cut short; stb_image
// would quietly decode the missing part as grey, PIL refuses it, and so do we. (Markers
// cannot occur inside entropy-coded data, and an EXIF thumbnail's SOS/EOI come before the
// main image's.)
bool jpeg_has_end_after_last_scan(const uint8_t *p, size_t n) {
    size_t last_sos = 0;
    bool found_sos = false;
    for (size_t i = 0; i + 1 < n; ++i)
        if (p[i] == 0xff && p[i + 1] == 0xda) {
            last_sos = i;
            found_sos = true;
        }
    if (!found_sos) return false;
    for (size_t i = last_sos + 2; i + 1 < n; ++i)
        if (p[i] == 0xff && p[i + 1] == 0xd9) return true;
    return false;
}

// stb_image 2.27 (Debian 12's libstb-dev) writes past its Huffman tables when a DHT segment
// declares more than 256 codes (fixed upstream in 2.28): memory corruption from a 300-byte
// file. Every DHT stb can read starts at an 0xFF 0xC4 marker, so all of them are checked here
// first: the walk skips the segments stb skips by their length (APPn, COM, DQT, SOF0-2, DRI,
// the SOS header), looks at every other 0xFF, including those in entropy-coded data (where
// stb, too, takes 0xFF + non-zero as a marker), and stops at EOI, as stb does. Returns the
// largest code count of any table, walked table by table as stb does.
int jpeg_max_huffman_codes(const uint8_t *p, size_t n) {
    const auto at = [&](size_t i) -> unsigned { return i < n ? p[i] : 0u; };  // stb reads 0 past the end
    int worst = 0;
    size_t i = 0;
    while (i < n) {
        if (p[i] != 0xff) {
            ++i;
            continue;
        }
        size_t j = i + 1;
        while (j < n && p[j] == 0xff) ++j;  // fill bytes
        if (j >= n) break;
        const unsigned marker = p[j];
        const size_t seg = j + 1;
        const size_t len = at(seg) << 8 | at(seg + 1);
        if (marker == 0xd9) break;  // EOI: stb reads no further
        if (marker == 0xc4) {
            long left = long(len) - 2;
            size_t t = seg + 2;
            while (left > 0 && t < n && (at(t) >> 4) <= 1 && (at(t) & 15) <= 3) {
                int codes = 0;
                for (size_t k = 1; k <= 16; ++k) codes += int(at(t + k));
                worst = std::max(worst, codes);
                t += 17 + size_t(codes);
                left -= 17 + long(codes);
            }
        }
        const bool skipped = marker == 0xc4 || (marker >= 0xe0 && marker <= 0xef) ||
                             marker == 0xfe || marker == 0xdb || marker == 0xdd ||
                             (marker >= 0xc0 && marker <= 0xc2) || marker == 0xda;
        i = skipped && len >= 2 ? seg + len : seg;
    }
    return worst;
}

// stb_image trusts PNG chunk lengths: an IDAT chunk claiming 2 GB has it allocate 2 GB before
// it finds the data missing (found by fuzzing). Every chunk up to IEND must fit in the file;
// stb reads them the same way (length, type, data, CRC) and also stops at IEND.
void check_png_chunks(const uint8_t *p, size_t n, const std::string &name) {
    size_t at = 8;  // after the signature
    while (n - at >= 8) {
        const uint64_t len = uint64_t(p[at]) << 24 | uint64_t(p[at + 1]) << 16 |
                             uint64_t(p[at + 2]) << 8 | uint64_t(p[at + 3]);
        std::string type;
        for (size_t i = at + 4; i < at + 8; ++i) {
            const char c = char(p[i]);
            type += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? c : '?';
        }
        const uint64_t follow = n - at - 8;  // chunk data and CRC
        if (len + 4 > follow)
            throw Error(name + ": truncated PNG (chunk '" + type + "' declares " +
                        std::to_string(len) + " bytes, only " + std::to_string(follow) +
                        " follow)");
        if (type == "IEND") return;
        at += 12 + size_t(len);
    }
    throw Error(name + ": truncated PNG (no IEND chunk)");
}

// --- PIL's resampling (libImaging/Resample.c, 8 bits per channel) ----------------------
constexpr int kPrecisionBits = 32 - 8 - 2;

double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

uint8_t clip8(int32_t in) {
    if (in >= (1 << kPrecisionBits << 8)) return 255;
    if (in <= 0) return 0;
    return uint8_t(in >> kPrecisionBits);
}

// Coefficients for output positions [first, first + count) of a resize in_size -> out_size:
// for output i, input taps [start[i], start[i] + len[i]) with weights k[i * ksize + t].
struct Coeffs {
    int ksize = 0;
    std::vector<int> start, len;
    std::vector<int32_t> k;
};

Coeffs precompute_coeffs(int in_size, int out_size, int first, int count) {
    const double scale = double(in_size) / out_size;
    const double filterscale = std::max(scale, 1.0);
    const double support = 1.0 * filterscale;  // bilinear: support 1
    Coeffs c;
    c.ksize = int(std::ceil(support)) * 2 + 1;
    c.start.resize(count);
    c.len.resize(count);
    c.k.assign(size_t(count) * c.ksize, 0);
    std::vector<double> w(c.ksize);
    for (int i = 0; i < count; ++i) {
        const int xx = first + i;
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = int(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = int(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            w[x] = bilinear_filter((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? w[x] / ww : w[x];
            c.k[size_t(i) * c.ksize + x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits))
                                                 : int32_t(0.5 + v * (1 << kPrecisionBits));
        }
        c.start[i] = xmin;
        c.len[i] = xmax;
    }
    return c;
}

int round_half_even_half(int d) {  // Python's round(d / 2) for d >= 0
    const int k = d / 2;
    return (d % 2 != 0 && k % 2 != 0) ? k + 1 : k;
}

int scaled_side(int target) {  // round(target * 256 / 224) = round(target * 8 / 7)
    return int((int64_t(target) * 16 + 7) / 14);
}

}  // namespace

const char *file_kind_name(FileKind kind) {
    switch (kind) {
        case FileKind::Npy: return "npy";
        case FileKind::Png: return "PNG";
        case FileKind::Jpeg: return "JPEG";
        case FileKind::Unknown: break;
    }
    return "unknown";
}

FileKind sniff_file_kind(const std::string &path) {
    check_regular_file(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open for reading");
    uint8_t head[8] = {};
    in.read(reinterpret_cast<char *>(head), sizeof head);
    return kind_of_bytes(head, size_t(in.gcount()));
}

RgbImage decode_image(const std::string &path) {
    check_regular_file(path);
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read file size: " + ec.message());
    if (size > kMaxImageFileBytes)
        throw Error(path + ": " + std::to_string(size) + " bytes is too large for an image file");
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    std::ifstream in(path, std::ios::binary);
    if (!in || (size && !in.read(reinterpret_cast<char *>(bytes.data()), std::streamsize(size))))
        throw Error(path + ": cannot read file");
    return decode_image_memory(bytes.data(), bytes.size(), path);
}

RgbImage decode_image_memory(const uint8_t *data, size_t size, const std::string &name) {
    const FileKind kind = kind_of_bytes(data, size);
    if (kind != FileKind::Png && kind != FileKind::Jpeg)
        throw Error(name + ": not a PNG or JPEG image (by its first bytes)");
    const char *kname = file_kind_name(kind);
    if (size > kMaxImageFileBytes) throw Error(name + ": image data too large");
    int w = 0, h = 0, comp = 0;
    // A PNG's size is in its IHDR chunk; read it here too, since stb_image refuses images of
    // over 2^30 bytes without saying why.
    if (kind == FileKind::Png && size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
        const auto be32 = [&](size_t at) {
            return uint64_t(data[at]) << 24 | uint64_t(data[at + 1]) << 16 |
                   uint64_t(data[at + 2]) << 8 | uint64_t(data[at + 3]);
        };
        const uint64_t pw = be32(16), ph = be32(20);
        if (pw > uint64_t(kMaxImageSide) || ph > uint64_t(kMaxImageSide))
            throw Error(name + ": PNG of " + std::to_string(pw) + "x" + std::to_string(ph) +
                        " pixels is too large (at most " + std::to_string(kMaxImageSide) +
                        " a side)");
    }
    if (kind == FileKind::Jpeg) {
        const int codes = jpeg_max_huffman_codes(data, size);
        if (codes > 256)
            throw Error(name + ": corrupt JPEG (a Huffman table declares " + std::to_string(codes) +
                        " codes; at most 256)");
    }
    if (!stbi_info_from_memory(data, int(size), &w, &h, &comp))
        throw Error(name + ": corrupt or unsupported " + kname + " (stb_image cannot read its header)");
    if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
        throw Error(name + ": " + kname + " of " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels is too large (at most " + std::to_string(kMaxImageSide) + " a side)");
    if (kind == FileKind::Png) check_png_chunks(data, size, name);
    if (kind == FileKind::Jpeg && !jpeg_has_end_after_last_scan(data, size))
        throw Error(name + ": truncated JPEG (no end-of-image marker after the last scan)");
    // stb_image decodes missing scan data as zeros, so 700 bytes can claim 16384x16384 and
    // cost gigabytes and seconds (found by fuzzing). A JPEG needs at least a bit per 8x8
    // block and scan (512 pixels a byte); allow 4 times that.
    constexpr uint64_t kMaxJpegPixelsPerByte = 2048;
    if (kind == FileKind::Jpeg && uint64_t(w) * uint64_t(h) > kMaxJpegPixelsPerByte * size)
        throw Error(name + ": truncated or corrupt JPEG (" + std::to_string(w) + "x" +
                    std::to_string(h) + " pixels in only " + std::to_string(size) + " bytes)");
    int dw = 0, dh = 0, dc = 0;
    stbi_uc *pixels = stbi_load_from_memory(data, int(size), &dw, &dh, &dc, 3);
    if (!pixels)
        throw Error(name + ": corrupt or unsupported " + kname + " (stb_image: " +
                    stbi_failure_reason() + ")");
    RgbImage img;
    img.width = dw;
    img.height = dh;
    try {
        img.pixels.assign(pixels, pixels + size_t(dw) * size_t(dh) * 3);
    } catch (...) {
        stbi_image_free(pixels);
        throw;
    }
    stbi_image_free(pixels);
    return img;
}

ResizeCrop plan_resize_crop(int src_height, int src_width, int out_height, int out_width) {
    if (src_height <= 0 || src_width <= 0 || out_height <= 0 || out_width <= 0)
        throw Error("plan_resize_crop: sizes must be positive");
    ResizeCrop p;
    if (int64_t(out_height) * src_width >= int64_t(out_width) * src_height) {
        // Height is the tighter axis (for a square target: the image's shorter side).
        p.resized_height = scaled_side(out_height);
        p.resized_width =
            int(double(int64_t(p.resized_height) * src_width) / double(src_height));
    } else {
        p.resized_width = scaled_side(out_width);
        p.resized_height =
            int(double(int64_t(p.resized_width) * src_height) / double(src_width));
    }
    p.resized_height = std::max(p.resized_height, out_height);
    p.resized_width = std::max(p.resized_width, out_width);
    p.top = round_half_even_half(p.resized_height - out_height);
    p.left = round_half_even_half(p.resized_width - out_width);
    return p;
}

RgbImage resize_crop_rgb(const RgbImage &src, int out_height, int out_width) {
    if (src.width <= 0 || src.height <= 0 ||
        src.pixels.size() != size_t(src.width) * size_t(src.height) * 3)
        throw Error("resize_crop_rgb: malformed source image");
    const ResizeCrop p = plan_resize_crop(src.height, src.width, out_height, out_width);
    const int iw = src.width, ih = src.height;

    // Vertical coefficients first: they say which source rows the crop needs.
    const bool need_v = p.resized_height != ih;
    const bool need_h = p.resized_width != iw;
    Coeffs cv, ch;
    int y0 = p.top, y1 = p.top + out_height;  // source rows needed (identity case)
    if (need_v) {
        cv = precompute_coeffs(ih, p.resized_height, p.top, out_height);
        y0 = ih;
        y1 = 0;
        for (int i = 0; i < out_height; ++i) {
            y0 = std::min(y0, cv.start[i]);
            y1 = std::max(y1, cv.start[i] + cv.len[i]);
        }
        if (y1 <= y0) y1 = y0 + 1;  // cannot happen for positive sizes; keep indices sane
    }

    // Horizontal pass: rows [y0, y1) -> out_width columns of the crop, 8-bit.
    const int rows = y1 - y0;
    std::vector<uint8_t> tmp(size_t(rows) * out_width * 3);
    if (need_h) {
        ch = precompute_coeffs(iw, p.resized_width, p.left, out_width);
        for (int y = 0; y < rows; ++y) {
            const uint8_t *in_row = &src.pixels[size_t(y0 + y) * iw * 3];
            uint8_t *out_row = &tmp[size_t(y) * out_width * 3];
            for (int x = 0; x < out_width; ++x) {
                const int32_t *k = &ch.k[size_t(x) * ch.ksize];
                const uint8_t *px = in_row + size_t(ch.start[x]) * 3;
                int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
                for (int t = 0; t < ch.len[x]; ++t) {
                    s0 += px[t * 3 + 0] * k[t];
                    s1 += px[t * 3 + 1] * k[t];
                    s2 += px[t * 3 + 2] * k[t];
                }
                out_row[x * 3 + 0] = clip8(s0);
                out_row[x * 3 + 1] = clip8(s1);
                out_row[x * 3 + 2] = clip8(s2);
            }
        }
    } else {
        for (int y = 0; y < rows; ++y)
            std::memcpy(&tmp[size_t(y) * out_width * 3],
                        &src.pixels[(size_t(y0 + y) * iw + p.left) * 3], size_t(out_width) * 3);
    }

    RgbImage out;
    out.width = out_width;
    out.height = out_height;
    if (!need_v) {
        out.pixels = std::move(tmp);
        return out;
    }
    // Vertical pass.
    out.pixels.resize(size_t(out_height) * out_width * 3);
    const size_t stride = size_t(out_width) * 3;
    for (int y = 0; y < out_height; ++y) {
        const int32_t *k = &cv.k[size_t(y) * cv.ksize];
        const uint8_t *base = &tmp[size_t(cv.start[y] - y0) * stride];
        uint8_t *out_row = &out.pixels[size_t(y) * stride];
        for (size_t xc = 0; xc < stride; ++xc) {
            int32_t s = 1 << (kPrecisionBits - 1);
            for (int t = 0; t < cv.len[y]; ++t) s += base[size_t(t) * stride + xc] * k[t];
            out_row[xc] = clip8(s);
        }
    }
    return out;
}

std::vector<float> imagenet_preprocess(const RgbImage &image, int out_height, int out_width) {
    const RgbImage crop = resize_crop_rgb(image, out_height, out_width);
    const size_t plane = size_t(out_height) * out_width;
    std::vector<float> out(plane * 3);
    for (size_t i = 0; i < plane; ++i)
        for (int c = 0; c < 3; ++c) {
            const float v = float(crop.pixels[i * 3 + c]) / 255.0f;  // ToTensor
            out[c * plane + i] = (v - kImagenetMean[c]) / kImagenetStd[c];  // Normalize
        }
    return out;
}

std::vector<float> load_image_nchw(const std::string &path, int out_height, int out_width) {
    return imagenet_preprocess(decode_image(path), out_height, out_width);
}

}  // namespace m1c
