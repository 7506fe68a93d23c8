#include "quant/samples.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "image_input.h"

namespace m1c::quant {

namespace fs = std::filesystem;

int64_t SampleSet::size() const {
    return files.empty() ? (array.shape.empty() ? 0 : array.shape[0]) : int64_t(files.size());
}

void SampleSet::load(int64_t i, float *dst) const {
    const size_t item = size_t(3) * height * width;
    if (i < 0 || i >= size()) throw Error(source + ": sample " + std::to_string(i) + " out of range");
    if (!files.empty()) {
        const std::vector<float> v = load_image_nchw(files[size_t(i)], height, width);
        std::memcpy(dst, v.data(), item * sizeof(float));
    } else {
        std::memcpy(dst, array.data.data() + size_t(i) * item, item * sizeof(float));
    }
}

namespace {

std::string shape_text(const std::vector<int64_t> &d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
}

// Regular files of `dir` that are PNG or JPEG by content, sorted by name.
std::vector<std::string> images_in(const fs::path &dir, int &skipped) {
    std::vector<std::string> files;
    for (const auto &e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        const FileKind k = sniff_file_kind(e.path().string());
        if (k == FileKind::Png || k == FileKind::Jpeg)
            files.push_back(e.path().string());
        else
            ++skipped;
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

SampleSet load_samples(const std::string &path, int height, int width, std::ostream &log) {
    SampleSet s;
    s.source = path;
    s.height = height;
    s.width = width;
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": no such file or directory");
    if (fs::is_directory(path, ec)) {
        int skipped = 0;
        std::vector<fs::path> classes;
        for (const auto &e : fs::directory_iterator(path))
            if (e.is_directory()) classes.push_back(e.path());
        std::sort(classes.begin(), classes.end());
        if (classes.empty()) {
            s.files = images_in(path, skipped);
        } else {
            for (size_t c = 0; c < classes.size(); ++c) {
                for (const std::string &f : images_in(classes[c], skipped)) {
                    s.files.push_back(f);
                    s.labels.push_back(int(c));
                }
                s.class_names.push_back(classes[c].filename().string());
            }
        }
        if (s.files.empty())
            throw Error(path + ": no PNG or JPEG images" +
                        std::string(classes.empty() ? "" : " in its class folders"));
        log << "m1c: " << path << ": " << s.files.size() << " images"
            << (classes.empty() ? "" : " in " + std::to_string(classes.size()) + " classes")
            << (skipped ? ", " + std::to_string(skipped) + " other files skipped" : "")
            << ", preprocessed to " << height << "x" << width << "\n";
        return s;
    }
    const FileKind kind = sniff_file_kind(path);
    if (kind != FileKind::Npy)
        throw Error(path + ": expected a .npy file (N x 3 x H x W float32) or a folder of PNG/JPEG "
                    "images, found a " + std::string(file_kind_name(kind)) + " file");
    s.array = read_npy(path);
    const auto &d = s.array.shape;
    if (d.size() != 4 || d[1] != 3 || d[0] < 1)
        throw Error(path + ": expected an N x 3 x H x W array (NCHW, 3 channels), found shape " +
                    shape_text(d));
    if (d[2] != height || d[3] != width)
        throw Error(path + ": samples are " + std::to_string(d[2]) + "x" + std::to_string(d[3]) +
                    ", the model's input is " + std::to_string(height) + "x" + std::to_string(width) +
                    " (set --input-size to match)");
    return s;
}

std::vector<int> read_labels(const std::string &path, int64_t count, int classes) {
    NpyReadOptions options;
    options.allow_integers = true;
    const NpyArray a = read_npy(path, options);
    if (a.shape.size() != 1 || a.shape[0] != count)
        throw Error(path + ": expected " + std::to_string(count) + " labels (shape [" +
                    std::to_string(count) + "]), found shape " + shape_text(a.shape));
    std::vector<int> labels(a.data.size());
    for (size_t i = 0; i < a.data.size(); ++i) {
        const float v = a.data[i];
        if (v != std::floor(v) || v < 0 || (classes > 0 && v >= float(classes)))
            throw Error(path + ": label " + std::to_string(v) + " at index " + std::to_string(i) +
                        " is not a class index in [0, " + std::to_string(classes) + ")");
        labels[i] = int(v);
    }
    return labels;
}

}  // namespace m1c::quant
