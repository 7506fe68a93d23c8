// N.h: the C API of a generated library (header-only C99 wrapper around the Halide
// pipeline function in libN.a).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace m1c::codegen {

struct HeaderInfo {
    std::string name;            // N
    std::string pipeline_fn;     // the Halide function in libN.a
    std::string description;     // e.g. "MobileOne s0 (built-in variant s0)"
    std::string target;          // Halide target string (a multi-target library: the list)
    // Every target of the library, most specific first, with its feature words for
    // halide_can_use_target_features (N_selected_target; target_list.h).
    std::vector<std::string> targets;
    std::vector<std::vector<uint64_t>> target_features;
    // ARM64 Linux/Android with several targets: N.h checks HWCAP for these feature bits
    // (Halide's runtime does not), see c_header.cpp.
    bool arm_hwcaps = false;
    int arm_dot_prod_bit = 0, arm_fp16_bit = 0;
    int batch = 1, height = 224, width = 224, classes = 1000;
    bool external_weights = false;
    int64_t weight_floats = 0;          // external: payload floats
    int64_t weight_i8_bytes = 0;        // external int8: int8 payload bytes after the floats
    std::array<uint8_t, 32> payload_sha256{};  // external: checked by N_init
    // Firmware (N_run_in with a caller-owned workspace, no heap; see memory_plan.h).
    bool firmware = false;
    int64_t workspace_bytes = 0, workspace_alignment = 64, guard_bytes = 64;
    // (offset, bytes) of each halide_malloc, one plan per target (in `targets` order); the
    // workspace holds the largest.
    std::vector<std::vector<std::pair<int64_t, int64_t>>> plans;
    // Backbone builds: the feature maps N_run_features returns (NCHW float32) instead of
    // logits; empty for classifiers.
    struct Feature {
        std::string name;
        int n = 1, c = 0, h = 0, w = 0;
    };
    std::vector<Feature> features;
};

// The layout of N.weights (external weights mode).
constexpr int kWeightsHeaderBytes = 64;
constexpr const char kWeightsMagic[9] = "M1CWGT01";

std::string c_header_text(const HeaderInfo &info);

// Backbone builds (c_header_features.cpp): `text`, a header template with logits, turned
// into N_run_features / N_run_features_in with N_NUM_FEATURES, N_feature_size(i) and the
// shapes documented. Returns `text` unchanged when info.features is empty.
std::string with_feature_outputs(const HeaderInfo &info, std::string text);

// Run-time dispatch in N.h (c_header_dispatch.cpp), with @N@ (and in dispatch_text
// @RUN_FN@) left for c_header_text to fill: N_TARGET_COUNT, N_m1c_target_index() and
// N_selected_target(); the ARM64 HWCAP check N_m1c_can_use; for firmware the plan tables
// (and N_m1c_select_plan with several targets), and the lines of N_run_in_sized that set
// the run's plan.
std::string dispatch_text(const HeaderInfo &h);
std::string arm_can_use_text(const HeaderInfo &h);
std::string firmware_plan_text(const HeaderInfo &h);
std::string firmware_plan_select_text(const HeaderInfo &h);

// A C identifier usable as a library name (and prefix of every macro and function).
bool valid_library_name(const std::string &name);

}  // namespace m1c::codegen
