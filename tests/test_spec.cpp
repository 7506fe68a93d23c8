// Specs: built-in variants as MOBILEONE.md gives them, custom JSON specs and their errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "frontend/spec.h"

using namespace m1c;

TEST(Spec, S0LayoutFollowsTheAuthorsConstructor) {
    NetworkLayout net = network_layout(*builtin_spec("s0"));
    ASSERT_EQ(net.blocks.size(), 1u + 2 * (2 + 8 + 10 + 1));
    const BlockLayout &stem = net.blocks[0];
    EXPECT_EQ(stem.prefix, "stage0");
    EXPECT_EQ(stem.out_channels, 48);
    EXPECT_EQ(stem.conv_branches, 1);  // stage0 never gets num_conv_branches
    EXPECT_TRUE(stem.has_scale);
    EXPECT_FALSE(stem.has_identity);
    const BlockLayout &dw = net.blocks[1];
    EXPECT_EQ(dw.prefix, "stage1.0");
    EXPECT_EQ(dw.groups, 48);
    EXPECT_EQ(dw.stride, 2);
    EXPECT_EQ(dw.conv_branches, 4);
    EXPECT_FALSE(dw.has_identity);
    const BlockLayout &pw = net.blocks[2];
    EXPECT_EQ(pw.prefix, "stage1.1");
    EXPECT_EQ(pw.kernel, 1);
    EXPECT_FALSE(pw.has_scale);
    EXPECT_TRUE(pw.has_identity);  // 48 -> 48
    EXPECT_EQ(net.features, 1024);
}

TEST(Spec, S4HasSqueezeExciteOnTheLastFiveRepeatsOfStage3AndAllOfStage4) {
    NetworkLayout net = network_layout(*builtin_spec("s4"));
    int se_blocks = 0;
    for (const BlockLayout &b : net.blocks) {
        if (!b.has_se) continue;
        ++se_blocks;
        EXPECT_TRUE(b.prefix.rfind("stage3.1", 0) == 0 || b.prefix.rfind("stage4.", 0) == 0) << b.prefix;
        EXPECT_EQ(b.se_channels, int(b.out_channels * 0.0625));
    }
    EXPECT_EQ(se_blocks, 2 * 5 + 2 * 1);
    EXPECT_FALSE(network_layout(*builtin_spec("s3")).blocks.back().has_se);
}

TEST(Spec, CustomJsonRoundTrips) {
    Spec s = *builtin_spec("s2");
    s.name = "mine";
    s.num_classes = 10;
    Spec back = spec_from_json(spec_to_json(s), "mine.json");
    EXPECT_EQ(back.name, "mine");
    EXPECT_EQ(back.width_multipliers, s.width_multipliers);
    EXPECT_EQ(back.num_classes, 10);
}

static std::string spec_error(const std::string &text) {
    try {
        spec_from_json(nlohmann::json::parse(text), "my_spec.json");
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

TEST(Spec, ErrorsNameTheFileAndTheKey) {
    const std::string good_tail =
        R"("blocks_per_stage": [2, 8, 10, 1], "num_conv_branches": 1, "use_se": false, "num_classes": 1000})";
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1], )" + good_tail)
                  .find("my_spec.json: key \"width_multipliers\""), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1, 0], )" + good_tail)
                  .find("width_multipliers"), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1, 1], "blocks_per_stage": [2, 8, 10, -1], "num_conv_branches": 1, "use_se": false, "num_classes": 1000})")
                  .find("key \"blocks_per_stage\""), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1, 1], "blocks_per_stage": [2, 8, 10, 1], "num_conv_branches": 1, "use_se": "yes", "num_classes": 1000})")
                  .find("key \"use_se\""), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1, 1], "blocks_per_stage": [2, 8, 10, 1], "num_conv_branches": 0, "use_se": false, "num_classes": 1000})")
                  .find("key \"num_conv_branches\""), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "width_multipliers": [1, 1, 1, 1], "blocks_per_stage": [2, 8, 10, 1], "use_se": false, "num_classes": 1000})")
                  .find("missing key \"num_conv_branches\""), std::string::npos);
    EXPECT_NE(spec_error(R"({"name": "x", "widths": [1, 1, 1, 1]})").find("unknown key \"widths\""),
              std::string::npos);
    EXPECT_NE(spec_error("[1, 2]").find("JSON object"), std::string::npos);
}

TEST(Spec, MissingOrInvalidFileIsAnError) {
    EXPECT_THROW(load_spec_file("/nonexistent/spec.json"), Error);
    EXPECT_FALSE(builtin_spec("s5").has_value());
}
