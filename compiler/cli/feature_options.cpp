#include "cli/feature_options.h"

#include "core/error.h"
#include "passes/passes.h"

namespace m1c::cli {

void add_feature_options(CLI::App *cmd, FeatureOptions &o) {
    cmd->add_option("--features", o.list,
                    "backbone build: return these stages' feature maps (NCHW float32) instead of "
                    "logits, e.g. stage1,stage2,stage3,stage4 (strides 4, 8, 16, 32); no head");
    cmd->add_option("--output-stride", o.output_stride,
                    "with --features: 16 dilates stage4 (stride 1, dilation 2), 8 also stage3 "
                    "(dilation 2, stage4 4), as segmentation models do")
        ->check(CLI::IsMember({32, 16, 8}))
        ->capture_default_str();
}

std::vector<int> parse_features(const std::string &list) {
    auto fail = [&](const std::string &why) {
        throw Error("--features \"" + list + "\": " + why +
                    "; expected stages in order, e.g. stage1,stage2,stage3,stage4 or stage2,stage4");
    };
    std::vector<int> stages;
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        const std::string item = list.substr(start, comma - start);
        if (item.size() != 6 || item.compare(0, 5, "stage") != 0 || item[5] < '1' || item[5] > '4')
            fail("\"" + item + "\" is not stage1..stage4");
        const int s = item[5] - '0';
        if (!stages.empty() && s <= stages.back()) fail("stage" + std::to_string(s) + " out of order or repeated");
        stages.push_back(s);
        start = comma + 1;
    }
    return stages;
}

void apply_features(const FeatureOptions &o, const LoadedModel &model, Graph &fused) {
    if (!o.backbone()) {
        if (o.output_stride != 32) throw Error("--output-stride needs --features (a backbone build)");
        require_head(model);
        return;
    }
    select_backbone(o, fused);
}

void select_backbone(const FeatureOptions &o, Graph &fused) {
    const std::vector<int> stages = parse_features(o.list);
    dilate_stages(fused, o.output_stride);
    select_features(fused, stages);
}

}  // namespace m1c::cli
