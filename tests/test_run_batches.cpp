// `m1c run` on inputs of many images: batches (with a partial last batch), more than the
// old 1024 limit, the logits of batch runs equal to single runs and to PyTorch, the compile
// and inference times reported apart, progress lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "npy.h"
#include "test_helpers.h"

using m1c::test::fixture;
using m1c::test::run_m1c;

namespace {

std::string custom_model() {
    return " --spec " + fixture("custom.json") + " --weights " + fixture("custom.pth.tar");
}

// max|a - b| / max|b|
double rel_diff(const std::vector<float> &a, const std::vector<float> &b) {
    return m1c::test::relative_max_diff(a, b);
}

}  // namespace

TEST(RunBatches, ElevenHundredImagesInBatchesOfSevenEqualSingleRuns) {
    const auto dir = m1c::test::fresh_dir("test_run_batches", "eleven_hundred");
    const int64_t n = 1100;  // more than the 1024 `run` refused before; 1100 = 157 x 7 + 1
    std::vector<float> x(size_t(n) * 3 * 32 * 32);
    std::mt19937 rng(13);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float &v : x) v = normal(rng);
    const std::string input = (dir / "x.npy").string();
    m1c::write_npy(input, {n, 3, 32, 32}, x.data());

    const std::string batched = (dir / "batched.npy").string(), single = (dir / "single.npy").string();
    const auto a = run_m1c("run" + custom_model() + " --input " + input + " --batch 7 --output " + batched +
                           " --threads 1 --progress 0.000001");
    ASSERT_EQ(a.status, 0) << a.output;
    EXPECT_NE(a.output.find("inference: "), std::string::npos) << a.output;
    EXPECT_NE(a.output.find(" ms/image, median of 158 batches of 7 (1100 images in "), std::string::npos) << a.output;
    EXPECT_TRUE(std::regex_search(a.output, std::regex("\ncompile: [0-9.]+ s \\(lowering, schedule and JIT compile for x86-64-linux"))) << a.output;
    EXPECT_NE(a.output.find("m1c run: 7/1100 images, "), std::string::npos) << a.output;  // a line per batch here
    EXPECT_NE(a.output.find("m1c run: 1100/1100 images, "), std::string::npos) << a.output;
    EXPECT_NE(a.output.find("1100 images: classes not listed"), std::string::npos) << a.output;
    EXPECT_EQ(a.output.find("item 0:"), std::string::npos) << a.output;

    const auto b = run_m1c("run" + custom_model() + " --input " + input + " --batch 1 --output " + single +
                           " --threads 1 --progress 0");
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_EQ(b.output.find("m1c run: "), std::string::npos) << b.output;  // --progress 0: none

    const m1c::NpyArray la = m1c::read_npy(batched), lb = m1c::read_npy(single);
    EXPECT_EQ(la.shape, (std::vector<int64_t>{n, 10}));
    EXPECT_EQ(lb.shape, (std::vector<int64_t>{n, 10}));
    EXPECT_LE(rel_diff(la.data, lb.data), 1e-5);
    // Each image its own logits (the batches are not shuffled): neighbours differ.
    EXPECT_GT(rel_diff(std::vector<float>(la.data.begin(), la.data.begin() + 10),
                       std::vector<float>(la.data.begin() + 10, la.data.begin() + 20)),
              1e-3);
    EXPECT_FALSE(std::filesystem::exists(batched + ".tmp"));
}

TEST(RunBatches, BatchesOfOneAndTheDefaultMatchPyTorch) {
    const auto dir = m1c::test::fresh_dir("test_run_batches", "oracle");
    const m1c::NpyArray reference = m1c::read_npy(fixture("custom_logits.npy"));  // 2 x 10, 160x96
    for (const std::string batch : {"", " --batch 1", " --batch 5"}) {
        const std::string out = (dir / "logits.npy").string();
        std::filesystem::remove(out);
        const auto r = run_m1c("run" + custom_model() + " --input " + fixture("custom_input.npy") + batch +
                               " --output " + out);
        ASSERT_EQ(r.status, 0) << batch << "\n" << r.output;
        // 2 images: listed; the default (1) and 1 -> 2 batches of 1; 5 -> one batch of 2.
        EXPECT_NE(r.output.find("item 1:"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(batch == " --batch 5" ? "median of 1 batch of 2" : "median of 2 batches of 1"),
                  std::string::npos)
            << r.output;
        const m1c::NpyArray got = m1c::read_npy(out);
        EXPECT_EQ(got.shape, reference.shape);
        EXPECT_LE(rel_diff(got.data, reference.data), 1e-4) << batch;
    }
}

TEST(RunBatches, BadImageLateInTheInputLeavesNoOutput) {
    const auto dir = m1c::test::fresh_dir("test_run_batches", "late_nan");
    std::vector<float> x(size_t(20) * 3 * 32 * 32, 0.5f);
    x[size_t(17) * 3 * 32 * 32 + 5] = NAN;  // image 17
    const std::string input = (dir / "x.npy").string(), out = (dir / "logits.npy").string();
    m1c::write_npy(input, {20, 3, 32, 32}, x.data());
    const auto r = run_m1c("run" + custom_model() + " --input " + input + " --batch 4 --output " + out);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("first at flat index " + std::to_string(17 * 3 * 32 * 32 + 5)), std::string::npos)
        << r.output;
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
}
