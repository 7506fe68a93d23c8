// The m1c executable as a user runs it: inspect (table and JSON), fold, and its errors.
#include <gtest/gtest.h>

#include "frontend/checkpoint.h"
#include "test_helpers.h"

using m1c::test::fixture;
using m1c::test::run_m1c;

TEST(CliInspect, JsonHasTrainAndFusedTotalsForEveryVariant) {
    for (const char *v : m1c::test::kVariants) {
        auto r = run_m1c(std::string("inspect --json --variant ") + v);
        ASSERT_EQ(r.status, 0) << r.output;
        auto j = nlohmann::json::parse(r.output);
        EXPECT_EQ(j["variant"], v);
        EXPECT_GT(j["train"]["params"].get<int64_t>(), 0);
        EXPECT_GT(j["fused"]["macs"].get<int64_t>(), 0);
        EXPECT_EQ(j["layers"].size(), j["fused"]["ops"].get<size_t>());
        nlohmann::json info = m1c::test::read_json(fixture(std::string(v) + "_info.json"));
        EXPECT_EQ(j["fused"]["params"], info["fused_params"]);
        EXPECT_EQ(j["train"]["params"], info["train_params"]);
    }
}

TEST(CliInspect, DetectsTheVariantFromWeightsAndSaysSo) {
    auto r = run_m1c("inspect --weights " + fixture("s2_fused.pth.tar"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("detected variant s2"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("stage4.1"), std::string::npos);
    EXPECT_NE(r.output.find("fused  graph"), std::string::npos);
}

TEST(CliInspect, CustomSpecAtAnotherSize) {
    auto r = run_m1c("inspect --json --spec " + fixture("custom.json") + " --input-size 160x96 --batch 2");
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["layers"].back()["out"], nlohmann::json({2, 10, 1, 1}));
}

TEST(CliFold, WritesSafetensorsThatReloadAsTheFusedModel) {
    std::string out = std::string(M1C_BUILD_DIR) + "/test_fold_s0.safetensors";
    auto r = run_m1c("fold --weights " + fixture("s0.pth.tar") + " --out " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    auto folded = m1c::load_checkpoint(out);
    auto torch_fused = m1c::load_checkpoint(fixture("s0_fused.pth.tar"));
    EXPECT_EQ(folded.size(), torch_fused.size());
    // The folded file is itself a valid fused checkpoint.
    auto again = run_m1c("inspect --json --weights " + out);
    ASSERT_EQ(again.status, 0) << again.output;
}

TEST(CliErrors, BadInputsGiveAClearMessageAndNonZeroExit) {
    struct Case { std::string args, expected; };
    const Case cases[] = {
        {"inspect --weights /nonexistent.pth", "/nonexistent.pth"},
        {"inspect --weights " + std::string(M1C_FIXTURES), M1C_FIXTURES},
        {"inspect --variant s9", "unknown variant"},
        {"inspect --variant s0 --input-size 225x224", "not a multiple of 32"},
        {"inspect --variant s0 --input-size big", "expected HxW"},
        {"inspect --variant s0 --batch 0", "--batch"},
        {"inspect --weights " + fixture("s0.pth.tar") + " --variant s3", "expected shape"},
        {"inspect --spec /nonexistent.json", "/nonexistent.json"},
        {"fold --weights " + fixture("s0.pth.tar") + " --out x.bin", ".safetensors"},
        {"inspect", "no model given"},
    };
    for (const Case &c : cases) {
        auto r = run_m1c(c.args);
        EXPECT_NE(r.status, 0) << c.args;
        EXPECT_LT(r.status, 2) << c.args << " crashed or failed internally: " << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    }
}

TEST(CliErrors, UsageErrorsExitWithStatus2AndHelpExitsZero) {
    EXPECT_EQ(run_m1c("inspect --variant s0 --batch abc").status, 2);
    EXPECT_EQ(run_m1c("inspect --no-such-option").status, 2);
    EXPECT_EQ(run_m1c("").status, 2);  // no subcommand
    EXPECT_EQ(run_m1c("--help").status, 0);
}
