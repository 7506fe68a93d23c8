// Recovering the architecture from a checkpoint's tensor shapes, for when the user gives
// weights but no --variant/--spec.
#pragma once
#include <string>

#include "core/tensor.h"
#include "frontend/naming.h"
#include "frontend/spec.h"

namespace m1c {

// Infers stage depths, widths, conv branches (train-time files), SE and classes from the
// keys and shapes, then names the built-in variant it equals ("s0".."s4") or "custom".
// `weights` are in the authors' naming, renamed from `naming` (which errors spell keys in).
// A headless encoder (no linear.*) keeps the variant's 1000 classes, unused.
// Throws m1c::Error naming `source` when the tensors do not describe a MobileOne.
Spec detect_spec(const TensorMap &weights, const std::string &source,
                 Naming naming = Naming::Authors);

}  // namespace m1c
