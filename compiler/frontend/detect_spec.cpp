#include "frontend/detect_spec.h"

#include <regex>

#include "core/error.h"
#include "frontend/weight_check.h"

namespace m1c {
namespace {

const int kStageBase[4] = {64, 128, 256, 512};

// The output channels of a block, from whichever kind of weight it has.
int64_t block_out_channels(const TensorMap &w, const std::string &prefix) {
    for (const char *suffix : {".reparam_conv.weight", ".rbr_conv.0.conv.weight"}) {
        auto it = w.find(prefix + suffix);
        if (it != w.end() && it->second.shape.size() == 4) return it->second.shape[0];
    }
    return -1;
}

bool same_architecture(const Spec &a, const Spec &b, bool compare_branches) {
    return a.width_multipliers == b.width_multipliers && a.blocks_per_stage == b.blocks_per_stage &&
           a.use_se == b.use_se && (!compare_branches || a.num_conv_branches == b.num_conv_branches);
}

}  // namespace

Spec detect_spec(const TensorMap &weights, const std::string &source, Naming naming) {
    auto fail = [&](const std::string &why) {
        throw Error(source + ": cannot detect the MobileOne variant from the tensor shapes (" +
                    naming_name(naming) + " naming): " + why + " (give --variant or --spec)");
    };
    // Stage depths: the highest block index seen in each stage's keys.
    static const std::regex block_key(R"(^stage([1-4])\.([0-9]{1,4})\.)");
    std::array<int, 4> max_index{-1, -1, -1, -1};
    int max_branch = -1;
    bool any_se = false;
    for (const auto &kv : weights) {
        std::smatch m;
        if (std::regex_search(kv.first, m, block_key)) {
            int s = std::stoi(m[1]) - 1;
            max_index[s] = std::max(max_index[s], std::stoi(m[2]));
        }
        static const std::regex branch_key(R"(^stage1\.0\.rbr_conv\.([0-9]{1,3})\.)");
        if (std::regex_search(kv.first, m, branch_key)) max_branch = std::max(max_branch, std::stoi(m[1]));
        if (kv.first.find(".se.reduce.weight") != std::string::npos) any_se = true;
    }
    Spec spec;
    spec.name = "custom";
    for (int s = 0; s < 4; ++s) {
        if (max_index[s] < 1)
            fail("no blocks found for " + key_in_naming(naming, "stage" + std::to_string(s + 1)));
        spec.blocks_per_stage[s] = (max_index[s] + 1) / 2;
        // Pointwise block 1 of each stage outputs the stage's planes = int(base * width).
        int64_t planes = block_out_channels(weights, "stage" + std::to_string(s + 1) + ".1");
        if (planes < 1)
            fail("no weight for block " + key_in_naming(naming, "stage" + std::to_string(s + 1) + ".1"));
        spec.width_multipliers[s] = double(planes) / kStageBase[s];
    }
    WeightFormat format = detect_weight_format(weights);
    spec.num_conv_branches = format == WeightFormat::TrainTime ? std::max(1, max_branch + 1) : 1;
    spec.use_se = any_se;
    const bool head = has_head_keys(weights);
    auto linear = weights.find("linear.weight");
    if (head && (linear == weights.end() || linear->second.shape.size() != 2))
        fail("no 2-D " + key_in_naming(naming, "linear.weight"));
    if (head) spec.num_classes = static_cast<int>(std::min<int64_t>(linear->second.shape[0], 1 << 30));

    for (const std::string &name : builtin_variant_names()) {
        Spec builtin = *builtin_spec(name);
        if (same_architecture(spec, builtin, format == WeightFormat::TrainTime)) {
            int classes = spec.num_classes;
            spec = builtin;
            spec.num_classes = classes;  // a fine-tuned head keeps the variant's name
            break;
        }
    }
    validate_spec(spec, source + " (detected spec)");
    if (naming == Naming::Timm) check_timm_se_agrees(spec, source);
    check_weights(spec, format, weights, source, naming);
    return spec;
}

}  // namespace m1c
