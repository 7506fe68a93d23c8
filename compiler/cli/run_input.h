// The images `m1c run` classifies, read a batch at a time so that a test set of any size
// runs in bounded memory: a .npy (N x 3 x H x W, used as is; the header is checked when it
// is opened, the data converted and checked for NaN/inf as each batch is read) or one
// PNG/JPEG image (ImageNet preprocessing, runtime/image_input.h). The format is chosen by
// the file's content, not its name.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "npy.h"

namespace m1c::cli {

class RunInput {
public:
    // `size` ("HxW") and `height`/`width` checks: an image is resized to `height` x `width`;
    // a .npy must have that size when `size_given`. Throws m1c::Error naming `path`.
    RunInput(const std::string &path, bool size_given, int height, int width);

    int64_t count() const { return count_; }  // images
    int height() const { return height_; }
    int width() const { return width_; }
    const std::string &description() const { return description_; }
    bool is_image() const { return !npy_; }

    // Images [first, first + n) as n x 3 x H x W floats into `dst`.
    void read(int64_t first, int64_t n, float *dst);

private:
    std::unique_ptr<NpyReader> npy_;
    std::vector<float> image_;  // the one preprocessed image
    int64_t count_ = 0;
    int height_ = 0, width_ = 0;
    std::string description_;
};

}  // namespace m1c::cli
