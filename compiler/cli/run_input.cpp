#include "cli/run_input.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "image_input.h"

namespace m1c::cli {

RunInput::RunInput(const std::string &path, bool size_given, int height, int width) {
    const FileKind kind = sniff_file_kind(path);
    if (kind == FileKind::Npy) {
        npy_ = std::make_unique<NpyReader>(path);
        const auto &d = npy_->shape();
        if (d.size() != 4 || d[1] != 3) {
            std::string s;
            for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
            throw Error(path + ": expected an N x 3 x H x W array (NCHW, 3 channels), found shape [" + s + "]");
        }
        if (d[0] < 1) throw Error(path + ": the array holds no images (N = 0)");
        for (int i : {2, 3})
            if (d[i] < 32 || d[i] > 8192 || d[i] % 32 != 0)
                throw Error(path + ": " + (i == 2 ? "height " : "width ") + std::to_string(d[i]) +
                            " is not a multiple of 32 in [32, 8192] (MobileOne downsamples by 32)");
        count_ = d[0];
        height_ = int(d[2]);
        width_ = int(d[3]);
        if (size_given && (height != height_ || width != width_))
            throw Error(path + ": array is " + std::to_string(height_) + "x" + std::to_string(width_) +
                        " but --input-size says " + std::to_string(height) + "x" + std::to_string(width));
        description_ = path + " (npy " + std::to_string(count_) + "x3x" + std::to_string(height_) + "x" +
                       std::to_string(width_) + ")";
        return;
    }
    if (kind == FileKind::Png || kind == FileKind::Jpeg) {
        RgbImage image = decode_image(path);
        count_ = 1;
        height_ = height;
        width_ = width;
        description_ = path + " (" + file_kind_name(kind) + " " + std::to_string(image.width) + "x" +
                       std::to_string(image.height) + ", ImageNet preprocessing -> 1x3x" +
                       std::to_string(height) + "x" + std::to_string(width) + ")";
        image_ = imagenet_preprocess(image, height, width);
        return;
    }
    throw Error(path + ": not a .npy, PNG or JPEG file (judged by its first bytes)");
}

void RunInput::read(int64_t first, int64_t n, float *dst) {
    const int64_t per_image = int64_t(3) * height_ * width_;
    if (first < 0 || n < 0 || first + n > count_)
        throw Error("RunInput: images [" + std::to_string(first) + ", " + std::to_string(first + n) +
                    ") of " + std::to_string(count_));
    if (npy_) {
        npy_->read(first * per_image, n * per_image, dst);
        return;
    }
    for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * per_image, image_.data(), size_t(per_image) * 4);
}

}  // namespace m1c::cli
