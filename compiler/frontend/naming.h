// The key namings a MobileOne checkpoint comes in, recognised from its keys: the authors'
// (apple/ml-mobileone: stage0, stage1.3.rbr_conv.0.conv.weight, linear.weight) and timm's
// (byobnet MobileOne, as on the Hugging Face hub: stem, stages.0.3.conv_kxk.0.conv.weight,
// head.fc.weight). Everything past loading works in the authors' naming; a timm checkpoint
// is renamed once, and errors name its keys as the file spells them.
#pragma once
#include <string>

#include "core/tensor.h"
#include "frontend/spec.h"

namespace m1c {

enum class Naming { Authors, Timm };
const char *naming_name(Naming n);  // "authors'" / "timm"

// Timm if keys start with stem. / stages. / head.fc., authors' if with stage0..4. / linear.;
// authors' when neither (the weight check then names what is missing). Throws m1c::Error
// naming `source` when a file mixes both.
Naming detect_naming(const TensorMap &weights, const std::string &source);

// One key in the other naming; keys outside the mapping are returned unchanged.
// stage0 <-> stem, stageN <-> stages.N-1, rbr_conv <-> conv_kxk, rbr_scale <-> conv_scale,
// rbr_skip <-> identity, se.reduce/expand <-> attn.fc1/fc2, linear <-> head.fc.
std::string timm_key(const std::string &authors_key);
std::string authors_key(const std::string &timm_key);
// `key` (authors' naming) as a checkpoint in `naming` spells it.
std::string key_in_naming(Naming naming, const std::string &key);

// Every key renamed (to the authors' naming / to timm's).
TensorMap to_authors_naming(const TensorMap &weights, Naming from);
TensorMap to_timm_naming(const TensorMap &authors_weights);

// timm sizes squeeze-excite reductions as make_divisible(C / 16, 8) (SEModule, round_limit
// 0), the authors as int(C * 0.0625): equal for S4 (56, 128), not for every custom spec.
int timm_se_channels(int channels);
// Throws m1c::Error naming `source` and the first SE block of `spec` where the two differ
// (m1c builds the authors' architecture).
void check_timm_se_agrees(const Spec &spec, const std::string &source);

}  // namespace m1c
