// Sample images at a model's input size, labelled or not: the data int8 calibration observes
// (--calibration DATA) and the data `m1c eval` scores.
//   - a .npy file, N x 3 x H x W float32, already preprocessed (used as is);
//   - a folder of PNG/JPEG images (ImageNet preprocessing, as `m1c run`); when the folder
//     holds sub-folders instead, each is a class, labelled by its index in sorted name order
//     (torchvision's ImageFolder convention).
// Labels for a .npy come from a second .npy of N integers (--labels).
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "npy.h"

namespace m1c::quant {

struct SampleSet {
    std::string source;
    int height = 0, width = 0;
    std::vector<std::string> files;        // image folder: one file per sample
    NpyArray array;                        // .npy: all samples
    std::vector<int> labels;               // empty: unlabelled
    std::vector<std::string> class_names;  // folder of class folders

    int64_t size() const;
    // Sample i as 3 x H x W floats (NCHW) into `dst`.
    void load(int64_t i, float *dst) const;
};

// Throws m1c::Error naming the path: missing, no images, a .npy of another shape (its H, W
// must be `height`, `width`).
SampleSet load_samples(const std::string &path, int height, int width, std::ostream &log);

// Integer class labels from a .npy of `count` integers (int8..int64, uint8, or integral
// floats), each in [0, classes) when classes > 0.
std::vector<int> read_labels(const std::string &path, int64_t count, int classes);

}  // namespace m1c::quant
