// runtime/: .npy reading and writing, PNG/JPEG decoding and the ImageNet preprocessing
// (checked against torchvision: runtime/samples/preprocess_reference.py made the numbers
// below), the embedded class names, and `m1c run` end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "core/error.h"
#include "image_input.h"
#include "imagenet_labels.h"
#include "npy.h"
#include "test_helpers.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace fs = std::filesystem;
using m1c::test::fixture;
using m1c::test::run_m1c;

namespace {

const std::string kSample = std::string(M1C_SOURCE_DIR) + "/runtime/samples/chelsea.jpg";

std::string scratch(const std::string &name) {
    const fs::path dir = fs::path(M1C_BUILD_DIR) / "test_runtime_io";
    fs::create_directories(dir);
    return (dir / name).string();
}

void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A .npy file by hand: version major.0, the given header dict (padded with spaces and '\n'
// to 64 bytes as numpy does), then raw data.
std::string npy_bytes(const std::string &dict, const std::string &data, int major = 1) {
    std::string header = dict;
    const size_t prefix = major == 1 ? 10 : 12;
    header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string out("\x93NUMPY", 6);
    out += char(major);
    out += '\0';
    const uint32_t n = uint32_t(header.size());
    for (size_t i = 0; i < prefix - 8; ++i) out += char((n >> (8 * i)) & 0xff);
    return out + header + data;
}

template <class T> std::string raw(const std::vector<T> &v) {
    return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

std::string f32_dict(const std::string &shape) {
    return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

// Expects `f` to throw m1c::Error whose message names `path` and contains `what`.
void expect_error(const std::function<void()> &f, const std::string &path, const std::string &what) {
    try {
        f();
        ADD_FAILURE() << "no error for " << path << " (expected: " << what << ")";
    } catch (const m1c::Error &e) {
        const std::string msg = e.what();
        EXPECT_EQ(msg.rfind(path, 0), 0u) << "message does not start with the path: " << msg;
        EXPECT_NE(msg.find(what), std::string::npos) << "expected \"" << what << "\" in: " << msg;
    }
}

// Same formula as synthetic() in runtime/samples/preprocess_reference.py.
m1c::RgbImage synthetic_image(int h, int w) {
    m1c::RgbImage im;
    im.width = w;
    im.height = h;
    im.pixels.resize(size_t(h) * w * 3);
    for (uint64_t y = 0; y < uint64_t(h); ++y)
        for (uint64_t x = 0; x < uint64_t(w); ++x)
            for (uint64_t c = 0; c < 3; ++c)
                im.pixels[(y * w + x) * 3 + c] =
                    uint8_t((x * x * 3 + y * 7 + x * y + c * 85 + (x ^ y)) % 256);
    return im;
}

struct Point {
    int c, y, x;
    float value;
};

}  // namespace

// --- .npy ------------------------------------------------------------------------------

TEST(Npy, RoundTripsFloat32InNumpysLayout) {
    const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {1, 3, 4, 5}, {0, 3}, {2, 1000}};
    for (const auto &shape : shapes) {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        std::vector<float> data(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) data[size_t(i)] = float(i) * 0.25f - 3.0f;
        const std::string path = scratch("roundtrip.npy");
        m1c::write_npy(path, shape, data.data());
        const std::string bytes = read_bytes(path);
        ASSERT_GE(bytes.size(), 64u);
        EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
        EXPECT_EQ((bytes.size() - size_t(n) * 4) % 64, 0u) << "header not padded to 64 bytes";
        EXPECT_FALSE(fs::exists(path + ".tmp"));
        const m1c::NpyArray a = m1c::read_npy(path);
        EXPECT_EQ(a.shape, shape);
        EXPECT_EQ(a.numel(), n);
        EXPECT_EQ(a.data, data);
    }
}

TEST(Npy, ReadsVersions2And3AndConvertsOtherFloatTypes) {
    const std::vector<float> f = {1.5f, -2.25f, 3.0e-3f};
    struct Case {
        std::string name, bytes;
        std::vector<float> expected;
    };
    std::string be;  // big-endian float32
    for (float v : f) {
        uint32_t b;
        std::memcpy(&b, &v, 4);
        for (int i = 3; i >= 0; --i) be += char((b >> (8 * i)) & 0xff);
    }
    const std::vector<Case> cases = {
        {"v2.npy", npy_bytes(f32_dict("(3,)"), raw(f), 2), f},
        {"v3.npy", npy_bytes(f32_dict("(3,)"), raw(f), 3), f},
        {"dquote.npy", npy_bytes("{\"shape\": (1, 3), \"fortran_order\": False, \"descr\": \"<f4\"}", raw(f)), f},
        {"f64.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                              raw(std::vector<double>{1.5, -2.25, 3.0e-3})),
         f},
        {"f16.npy", npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }",
                              raw(std::vector<uint16_t>{0x3c00, 0xc000, 0x3800, 0x0001})),
         {1.0f, -2.0f, 0.5f, std::ldexp(1.0f, -24)}},
        {"be.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", be), f},
    };
    for (const auto &c : cases) {
        const std::string path = scratch(c.name);
        write_bytes(path, c.bytes);
        m1c::NpyArray a;
        ASSERT_NO_THROW(a = m1c::read_npy(path)) << c.name;
        EXPECT_EQ(a.data, c.expected) << c.name;
    }
}

TEST(Npy, RejectsBadFilesWithTheirPath) {
    const std::string four = raw(std::vector<float>{1, 2, 3, 4});
    struct Case {
        std::string name, bytes, expected;
    };
    const std::vector<Case> cases = {
        {"empty.npy", "", "magic"},
        {"magic.npy", "NOTNUMPY" + std::string(100, ' '), "magic"},
        {"version.npy", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '),
         "format version 4.0"},
        {"trunc_header.npy", npy_bytes(f32_dict("(4,)"), four).substr(0, 30), "truncated .npy header"},
        {"trunc_len.npy", std::string("\x93NUMPY\x01\x00\x40", 9), "truncated .npy header"},
        {"trunc_data.npy", npy_bytes(f32_dict("(4,)"), four.substr(0, 10)), "truncated .npy data"},
        {"trailing.npy", npy_bytes(f32_dict("(3,)"), four), "unexpected bytes after the data"},
        {"fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four),
         "fortran_order"},
        {"huge.npy", npy_bytes(f32_dict("(1152921504606846976,)"), four), "truncated .npy data"},
        {"overflow.npy", npy_bytes(f32_dict("(1099511627776, 1099511627776)"), four),
         "more elements than any file could hold"},
        {"int.npy", npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", four),
         "dtype '<i4' is not supported"},
        {"u8.npy", npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (16,), }", four),
         "dtype '|u1' is not supported"},
        {"object.npy", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", four),
         "not supported"},
        {"nokey.npy", npy_bytes("{'descr': '<f4', 'shape': (4,), }", four), "no 'fortran_order'"},
        {"extrakey.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", four),
         "unexpected key 'x'"},
        {"dupkey.npy", npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", four),
         "appears twice"},
        {"notuple.npy", npy_bytes(f32_dict("(4)"), four), "not a tuple"},
        {"negative.npy", npy_bytes(f32_dict("(-4,)"), four), "non-negative integers"},
        {"junk.npy", npy_bytes(f32_dict("(4,)") + " x", four), "unexpected text after"},
        {"nodict.npy", npy_bytes("[1, 2]", four), "expected '{'"},
        {"nan.npy", npy_bytes(f32_dict("(4,)"), raw(std::vector<float>{1, NAN, 3, INFINITY})),
         "2 non-finite value(s)"},
    };
    for (const auto &c : cases) {
        const std::string path = scratch(c.name);
        write_bytes(path, c.bytes);
        SCOPED_TRACE(c.name);
        expect_error([&] { m1c::read_npy(path); }, path, c.expected);
    }
    // Non-finite values are fine when asked for.
    m1c::NpyReadOptions lenient;
    lenient.require_finite = false;
    EXPECT_EQ(m1c::read_npy(scratch("nan.npy"), lenient).data.size(), 4u);

    expect_error([] { m1c::read_npy("/nonexistent/x.npy"); }, "/nonexistent/x.npy", "no such file");
    const std::string dir = fs::path(scratch("x")).parent_path().string();
    expect_error([&] { m1c::read_npy(dir); }, dir, "not a regular file");
    expect_error([] { m1c::write_npy("/nonexistent/dir/out.npy", {1}, nullptr); },
                 "/nonexistent/dir/out.npy", "cannot open");
}

// --- images ----------------------------------------------------------------------------

TEST(Image, SniffsFileKindsByContent) {
    const std::string npy = scratch("kind.png");  // a .npy despite its name
    const float one = 1.0f;
    m1c::write_npy(npy, {1}, &one);
    EXPECT_EQ(m1c::sniff_file_kind(npy), m1c::FileKind::Npy);
    EXPECT_EQ(m1c::sniff_file_kind(kSample), m1c::FileKind::Jpeg);
    const std::string txt = scratch("kind.txt");
    write_bytes(txt, "hello");
    EXPECT_EQ(m1c::sniff_file_kind(txt), m1c::FileKind::Unknown);
    const std::string empty = scratch("kind_empty");
    write_bytes(empty, "");
    EXPECT_EQ(m1c::sniff_file_kind(empty), m1c::FileKind::Unknown);
    expect_error([] { m1c::sniff_file_kind("/nonexistent.jpg"); }, "/nonexistent.jpg", "no such file");
}

TEST(Image, PlansTorchvisionResizeAndCentreCrop) {
    struct Case {
        int ih, iw, oh, ow, rh, rw, top, left;
    };
    const Case cases[] = {
        {300, 451, 224, 224, 256, 384, 16, 80},  // landscape: shorter side (height) -> 256
        {333, 250, 224, 224, 340, 256, 58, 16},  // portrait: int(256 * 333 / 250) = 340
        {224, 224, 224, 224, 256, 256, 16, 16},  // square: upscaled to 256, then cropped
        {224, 225, 224, 224, 256, 257, 16, 16},  // round(16.5) = 16 (Python rounds half to even)
        {224, 227, 224, 224, 256, 259, 16, 18},  // round(17.5) = 18
        {300, 451, 160, 96, 183, 275, 12, 90},   // non-square target: height binds, 160 * 8 / 7
        {100, 1000, 64, 64, 73, 730, 4, 333},
    };
    for (const auto &c : cases) {
        const auto p = m1c::plan_resize_crop(c.ih, c.iw, c.oh, c.ow);
        EXPECT_EQ(p.resized_height, c.rh) << c.ih << "x" << c.iw;
        EXPECT_EQ(p.resized_width, c.rw) << c.ih << "x" << c.iw;
        EXPECT_EQ(p.top, c.top) << c.ih << "x" << c.iw;
        EXPECT_EQ(p.left, c.left) << c.ih << "x" << c.iw;
    }
}

// torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize on PIL images, bit for
// bit: downscaling (antialiased), upscaling, a non-square target and a no-op-sized image.
TEST(Image, PreprocessingMatchesTorchvisionExactly) {
    struct Ref {
        int h, w, oh, ow;
        double sums[3];
        std::vector<Point> points;
    };
    const std::vector<Ref> refs = {
        {333, 250, 224, 224, {2833.46469, 11122.6344, 20723.6091},
         {{0, 0, 0, -0.18280679f}, {1, 5, 7, 0.205182195f}, {2, 100, 3, -1.24671006f},
          {0, 37, 150, 1.59816766f}, {1, 112, 112, 0.852941215f}, {2, 159, 95, 0.356775671f},
          {0, 80, 60, 1.1871736f}, {1, 10, 90, 0.0826330557f}}},
        {100, 150, 224, 224, {2370.01747, 10791.3844, 20481.6919},
         {{0, 0, 0, -0.987670183f}, {1, 5, 7, -0.407562971f}, {2, 100, 3, 0.705359638f},
          {0, 37, 150, 0.75905472f}, {1, 112, 112, 0.922969222f}, {2, 159, 95, 1.45481503f},
          {0, 80, 60, -0.936295927f}, {1, 10, 90, -0.0399159528f}}},
        {300, 451, 160, 96, {766.795048, 3524.84682, 6136.1274},
         {{0, 0, 0, 0.313811153f}, {1, 5, 7, 0.345238209f}, {2, 100, 3, 0.165054545f},
          {2, 159, 95, 0.182483733f}, {0, 80, 60, 0.159688383f}, {1, 10, 90, 1.18557429f}}},
        {224, 224, 224, 224, {3094.63432, 11155.4425, 20409.8661},
         {{0, 0, 0, -0.268430561f}, {1, 5, 7, 0.905462265f}, {2, 100, 3, 0.112766959f},
          {0, 37, 150, -0.816422641f}, {1, 112, 112, -0.337534964f}, {2, 159, 95, -1.22928095f},
          {0, 80, 60, 0.03981499f}, {1, 10, 90, 1.3781513f}}},
    };
    for (const auto &r : refs) {
        SCOPED_TRACE(std::to_string(r.h) + "x" + std::to_string(r.w) + " -> " +
                     std::to_string(r.oh) + "x" + std::to_string(r.ow));
        const auto x = m1c::imagenet_preprocess(synthetic_image(r.h, r.w), r.oh, r.ow);
        const size_t plane = size_t(r.oh) * r.ow;
        ASSERT_EQ(x.size(), 3 * plane);
        for (int c = 0; c < 3; ++c) {
            double s = 0;
            for (size_t i = 0; i < plane; ++i) s += x[c * plane + i];
            EXPECT_NEAR(s, r.sums[c], 2e-3) << "channel " << c;
        }
        for (const auto &p : r.points)
            EXPECT_FLOAT_EQ(x[p.c * plane + size_t(p.y) * r.ow + p.x], p.value)
                << "at c=" << p.c << " y=" << p.y << " x=" << p.x;
    }
}

// The sample photo through stb_image: 1 x 3 x 224 x 224 in the normalised range, close to
// torchvision's result (whose libjpeg decode differs from stb_image's by a few levels).
TEST(Image, SamplePhotoDecodesToTheTorchvisionTensor) {
    const m1c::RgbImage img = m1c::decode_image(kSample);
    EXPECT_EQ(img.width, 451);
    EXPECT_EQ(img.height, 300);
    const auto x = m1c::load_image_nchw(kSample, 224, 224);
    const size_t plane = 224 * 224;
    ASSERT_EQ(x.size(), 3 * plane);
    const double ref_mean[3] = {0.389836, -0.184455, -0.520031};
    const double ref_std[3] = {0.579767, 0.542836, 0.548366};
    for (int c = 0; c < 3; ++c) {
        const float lo = (0.0f - m1c::kImagenetMean[c]) / m1c::kImagenetStd[c];
        const float hi = (1.0f - m1c::kImagenetMean[c]) / m1c::kImagenetStd[c];
        double s = 0, s2 = 0;
        for (size_t i = 0; i < plane; ++i) {
            const float v = x[c * plane + i];
            ASSERT_TRUE(v >= lo && v <= hi) << v << " outside [" << lo << ", " << hi << "]";
            s += v;
            s2 += double(v) * v;
        }
        const double mean = s / plane, sd = std::sqrt(s2 / plane - mean * mean);
        EXPECT_NEAR(mean, ref_mean[c], 5e-3) << "channel " << c;
        EXPECT_NEAR(sd, ref_std[c], 5e-3) << "channel " << c;
    }
    const Point points[] = {{0, 0, 0, 0.810428977f},   {1, 5, 7, -0.197478965f},
                            {2, 100, 3, -0.880697131f}, {0, 37, 150, 0.587807178f},
                            {1, 112, 112, 0.572829247f}, {2, 159, 95, -1.03755987f},
                            {0, 80, 60, -1.92953169f},  {1, 10, 90, -0.14495796f}};
    for (const auto &p : points)  // 4 levels of 255 / std
        EXPECT_NEAR(x[p.c * plane + size_t(p.y) * 224 + p.x], p.value, 0.07f);
}

TEST(Image, PngRoundTripsRgbGreyAndAlpha) {
    const m1c::RgbImage src = synthetic_image(61, 83);
    const std::string rgb = scratch("syn_rgb.png");
    ASSERT_TRUE(stbi_write_png(rgb.c_str(), src.width, src.height, 3, src.pixels.data(), 0));
    const auto back = m1c::decode_image(rgb);
    EXPECT_EQ(back.width, 83);
    EXPECT_EQ(back.height, 61);
    EXPECT_EQ(back.pixels, src.pixels);
    EXPECT_EQ(m1c::load_image_nchw(rgb, 64, 96), m1c::imagenet_preprocess(src, 64, 96));

    std::vector<uint8_t> grey(size_t(src.width) * src.height), rgba;
    for (size_t i = 0; i < grey.size(); ++i) {
        grey[i] = src.pixels[i * 3];
        rgba.insert(rgba.end(), {src.pixels[i * 3], src.pixels[i * 3 + 1], src.pixels[i * 3 + 2],
                                 uint8_t(i % 256)});
    }
    const std::string g = scratch("syn_grey.png"), a = scratch("syn_rgba.png");
    ASSERT_TRUE(stbi_write_png(g.c_str(), src.width, src.height, 1, grey.data(), 0));
    ASSERT_TRUE(stbi_write_png(a.c_str(), src.width, src.height, 4, rgba.data(), 0));
    const auto gi = m1c::decode_image(g);
    for (size_t i = 0; i < grey.size(); ++i)
        ASSERT_TRUE(gi.pixels[i * 3] == grey[i] && gi.pixels[i * 3 + 1] == grey[i] &&
                    gi.pixels[i * 3 + 2] == grey[i]);
    EXPECT_EQ(m1c::decode_image(a).pixels, src.pixels);  // alpha dropped, as PIL's convert("RGB")
}

TEST(Image, RejectsCorruptTruncatedAndNonImageFiles) {
    const std::string jpeg = read_bytes(kSample);
    const m1c::RgbImage src = synthetic_image(40, 40);
    const std::string good_png = scratch("good.png");
    ASSERT_TRUE(stbi_write_png(good_png.c_str(), 40, 40, 3, src.pixels.data(), 0));
    const std::string png = read_bytes(good_png);
    // A PNG whose IHDR claims 20000 x 20000 pixels (stb_image does not check CRCs).
    std::string big = png;
    const unsigned char dims[8] = {0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20};
    big.replace(16, 8, reinterpret_cast<const char *>(dims), 8);
    // A JPEG whose frame header (SOF0: FF C0, length, precision, height, width) says 20000 x 300.
    std::string big_jpeg = jpeg;
    const size_t sof = big_jpeg.find("\xff\xc0");
    ASSERT_NE(sof, std::string::npos);
    big_jpeg[sof + 5] = '\x4e';
    big_jpeg[sof + 6] = '\x20';

    struct Case {
        std::string name, bytes, expected;
    };
    const std::vector<Case> cases = {
        {"text.png", "this is not an image\n", "not a PNG or JPEG image"},
        {"empty.jpg", "", "not a PNG or JPEG image"},
        {"npy.png", npy_bytes(f32_dict("(1,)"), raw(std::vector<float>{1})), "not a PNG or JPEG image"},
        {"garbage.png", png.substr(0, 8) + std::string(200, '\x5a'), "corrupt or unsupported PNG"},
        {"cut.png", png.substr(0, png.size() / 2), "PNG"},
        {"garbage.jpg", jpeg.substr(0, 3) + std::string(500, '\x11'), "JPEG"},
        {"cut.jpg", jpeg.substr(0, jpeg.size() / 2), "truncated JPEG"},
        {"huge.png", big, "PNG of 20000x20000 pixels is too large"},
        {"huge.jpg", big_jpeg, "JPEG of 451x20000 pixels is too large"},
    };
    for (const auto &c : cases) {
        const std::string path = scratch(c.name);
        write_bytes(path, c.bytes);
        SCOPED_TRACE(c.name);
        expect_error([&] { m1c::decode_image(path); }, path, c.expected);
    }
    expect_error([] { m1c::decode_image("/nonexistent.png"); }, "/nonexistent.png", "no such file");
}

// --- labels ----------------------------------------------------------------------------

TEST(Labels, TheThousandImagenetClassesInTorchvisionOrder) {
    const auto &labels = m1c::imagenet_labels();
    ASSERT_EQ(labels.size(), 1000u);
    EXPECT_EQ(labels[0], "tench");
    EXPECT_EQ(labels[1], "goldfish");
    EXPECT_EQ(labels[281], "tabby");
    EXPECT_EQ(labels[999], "toilet tissue");
    EXPECT_EQ(m1c::imagenet_label_or_index(1000), "class 1000");
    // The embedded copy is the file in the tree.
    std::ifstream in(std::string(M1C_SOURCE_DIR) + "/runtime/imagenet_classes.txt");
    std::string line;
    size_t i = 0;
    while (std::getline(in, line)) {
        ASSERT_LT(i, labels.size());
        EXPECT_EQ(labels[i++], line);
    }
    EXPECT_EQ(i, 1000u);
}

// --- m1c run ---------------------------------------------------------------------------

TEST(CliRun, BadInputsAreReportedBeforeTheModelLoads) {
    const std::string txt = scratch("run_input.txt");
    write_bytes(txt, "not an input");
    const std::string two_ch = scratch("run_2ch.npy");
    const std::vector<float> zeros(2 * 32 * 32, 0.0f);
    m1c::write_npy(two_ch, {1, 2, 32, 32}, zeros.data());
    const std::string ok = scratch("run_ok.npy");
    const std::vector<float> x(3 * 64 * 32, 0.5f);
    m1c::write_npy(ok, {1, 3, 64, 32}, x.data());
    const std::string odd = scratch("run_odd.npy");
    const std::vector<float> y(3 * 50 * 32, 0.5f);
    m1c::write_npy(odd, {1, 3, 50, 32}, y.data());
    struct Case {
        std::string args, expected;
    };
    const std::string w = " --weights " + fixture("s0.pth.tar");
    const Case cases[] = {
        {"run" + w + " --input " + txt, txt + ": not a .npy, PNG or JPEG"},
        {"run" + w + " --input /nonexistent.npy", "/nonexistent.npy: no such file"},
        {"run" + w + " --input " + two_ch, "3 channels"},
        {"run" + w + " --input " + odd, "height 50 is not a multiple of 32"},
        {"run" + w + " --input " + ok + " --input-size 224x224", "--input-size says 224x224"},
        {"run" + w + " --input " + ok + " --batch 0", "--batch 0: expected an integer in [1, 1024]"},
        {"run" + w + " --input " + ok + " --progress -1", "--progress"},
        {"run" + w + " --input " + kSample + " --batch 2", "an image is one batch item"},
        {"run" + w + " --input " + kSample + " --input-size 100x100", "not a multiple of 32"},
        {"run" + w + " --input " + kSample + " --top 0", "--top"},
        {"run" + w + " --input " + kSample + " --threads -1", "--threads"},
    };
    for (const auto &c : cases) {
        const auto r = run_m1c(c.args);
        EXPECT_EQ(r.status, 1) << c.args << "\n" << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    }
}

namespace {
void expect_logits_match(const std::string &ours, const std::string &reference) {
    const auto a = m1c::read_npy(ours), b = m1c::read_npy(reference);
    ASSERT_EQ(a.data.size(), b.data.size());
    float max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < a.data.size(); ++i) {
        max_ref = std::max(max_ref, std::fabs(b.data[i]));
        max_diff = std::max(max_diff, std::fabs(a.data[i] - b.data[i]));
    }
    EXPECT_LE(max_diff, 1e-3f * max_ref + 1e-4f) << ours << " vs " << reference;
}
}  // namespace

TEST(CliRun, NpyInputGivesTheOracleLogits) {
    const std::string out = scratch("run_s0_logits.npy");
    fs::remove(out);
    const auto r = run_m1c("run --weights " + fixture("s0.pth.tar") + " --input " +
                           fixture("s0_input.npy") + " --output " + out + " --top 3 --threads 2");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("inference: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("   1. class "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("   3. class "), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("   4. class "), std::string::npos) << r.output;
    EXPECT_EQ(m1c::read_npy(out).shape, (std::vector<int64_t>{1, 1000}));
    expect_logits_match(out, fixture("s0_logits.npy"));
}

TEST(CliRun, CustomSpecBatchOfTwoAtAnotherSize) {
    const std::string out = scratch("run_custom_logits.npy");
    const auto r = run_m1c("run --spec " + fixture("custom.json") + " --weights " +
                           fixture("custom.pth.tar") + " --input " + fixture("custom_input.npy") +
                           " --output " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("item 1:"), std::string::npos) << r.output;
    // 10 classes: index, probability and logit, no ImageNet name.
    const std::regex line("\n   1\\. class +[0-9]+  p=[0-9.]+  logit= *-?[0-9.]+\n");
    EXPECT_TRUE(std::regex_search(r.output, line)) << r.output;
    EXPECT_EQ(m1c::read_npy(out).shape, (std::vector<int64_t>{2, 10}));
    expect_logits_match(out, fixture("custom_logits.npy"));
}

TEST(CliRun, ClassifiesTheSamplePhoto) {
    const auto r = run_m1c("run --weights " + fixture("s0_fused.pth.tar") + " --input " + kSample);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("JPEG 451x300"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("   5. class "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("p="), std::string::npos) << r.output;
}
