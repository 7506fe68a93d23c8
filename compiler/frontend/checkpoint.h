// Reading model weights from disk. The file kind is chosen by its content (zip magic for
// torch.save files, a JSON header length for .safetensors), never by its extension.
#pragma once
#include <string>

#include "core/tensor.h"

namespace m1c {

// Loads a PyTorch state dict (torch.save zip format) or a .safetensors file.
// - Dicts wrapped as {"state_dict": {...}} or {"model": {...}} are unwrapped.
// - A leading "module." on every key (DataParallel) is stripped.
// - float16 / bfloat16 / float64 / integer storages are converted to float32; views
//   (storage offset, strides) are materialised as contiguous tensors.
// Throws m1c::Error naming the file and the problem; never executes anything from the file.
TensorMap load_checkpoint(const std::string &path);

// Writes tensors as a .safetensors file (float32, keys sorted). Throws m1c::Error on I/O failure.
void save_safetensors(const std::string &path, const TensorMap &tensors);

}  // namespace m1c
