// torch.save's zip format (PyTorch >= 1.6): a zip with one top-level folder holding
//   <folder>/data.pkl     the pickled object (protocol 2), tensors as persistent ids
//   <folder>/data/<key>   one raw little-endian storage per key
//   <folder>/version, maybe <folder>/byteorder, ...
// The pickle runs in the restricted interpreter (pickle_machine.h) with the allow-list below;
// tensors come out as pickle objects holding contiguous float32 m1c::Tensors.
//
// Globals that may be called: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter. Storage types that may name a persistent id's dtype:
// torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage. That is all
// torch 1.13 emits for a state dict (checked with pickletools); the location ('cpu',
// 'cuda:0') is ignored, so CUDA checkpoints load on the host.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "frontend/pickle_machine.h"

namespace m1c {

// Unpickles the object stored in the torch.save zip archive at `path`. Throws m1c::Error naming
// the path on anything malformed or not allowed (including TorchScript archives).
pickle::ValuePtr read_torch_zip(const std::string &path);

// The tensor a value from read_torch_zip() holds, or null if it is not a tensor.
const Tensor *as_tensor(const pickle::Value &value);

// True if a file's first bytes are a bare pickle: torch.save's legacy (pre-1.6) format.
bool looks_like_legacy_torch(const uint8_t *head, size_t head_size);

}  // namespace m1c
