// The 1000 ImageNet-1k (ILSVRC-2012) class names in the class-index order of torchvision's
// pretrained classifiers (0 "tench", 1 "goldfish", ..., 999 "toilet tissue").
//
// Source: runtime/imagenet_classes.txt, one name per line, taken verbatim from
// torchvision's `_IMAGENET_CATEGORIES` (torchvision/models/_meta.py, BSD-3-Clause) as
// shipped in Debian's python3-torchvision 0.14.1-2. The file is embedded into the library
// at build time (CMake file(CONFIGURE) -> imagenet_classes.inc), so m1c needs no data file
// at run time.
#pragma once
#include <string>
#include <vector>

namespace m1c {

const std::vector<std::string> &imagenet_labels();

// imagenet_labels()[index] when 0 <= index < 1000, else "class <index>".
std::string imagenet_label_or_index(int index);

}  // namespace m1c
