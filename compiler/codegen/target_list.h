// `--target` lists: one library holding a pipeline per target, the one to run picked at run
// time by the CPU's features (Halide's multi-target compilation; as oneDNN and XNNPACK pick
// their kernels). The list is most specific first, a baseline last, all of one architecture
// and OS; at each run the first target the CPU supports runs (Halide's runtime asks cpuid),
// the baseline when none does. Named presets stand for the common lists:
//   x86-64-all: AVX-512 (Skylake-X and later, Zen 4), AVX2+FMA (Haswell and later, Zen 1-3),
//               SSE4.1 (any x86-64 since 2008), for Linux;
//   arm64-all:  ARMv8.2 with dot products and fp16 arithmetic, plain ARMv8, for Linux.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Halide.h>

namespace m1c::codegen {

// The presets: name -> comma-separated target list.
const std::vector<std::pair<std::string, std::string>> &target_presets();

// "host", one target string, a preset, or "a,b,c". Each entry is checked as parse_target
// checks it (int8: "host" as for int8); a list must have one architecture, bit width and OS,
// no "host" and no repeated target. Throws m1c::Error naming the entry.
std::vector<Halide::Target> parse_target_list(const std::string &text, bool int8);

// The target's features as the bit words Halide's halide_can_use_target_features() takes
// (bit f of word f / 64 for feature f), and how many words that is.
int target_feature_word_count();
std::vector<uint64_t> target_feature_words(const Halide::Target &target);

}  // namespace m1c::codegen
