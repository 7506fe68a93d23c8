// The frontend and passes against the PyTorch oracle: every key of the oracle's checkpoints
// is parsed and checked, m1c's folded weights equal PyTorch's own reparameterisation, and
// the graph totals equal the oracle's parameter counts and the paper's figures.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/load_model.h"
#include "ir/build_graph.h"
#include "ir/fused_state_dict.h"
#include "ir/graph_stats.h"
#include "passes/pipeline.h"
#include "test_helpers.h"

using namespace m1c;
using m1c::test::fixture;

namespace {

LoadedModel load_quiet(const std::string &weights, std::optional<std::string> variant = std::nullopt,
                       std::optional<std::string> spec = std::nullopt) {
    std::ostringstream log;
    return load_model(ModelRequest{variant, spec, weights}, log);
}

Graph folded_graph(const LoadedModel &m) {
    return fold_and_fuse(build_graph(m.spec, m.format, m.weights, InputShape{}));
}

const std::vector<std::string> kModels = {"s0", "s1", "s2", "s3", "s4", "custom"};

}  // namespace

class OracleModel : public ::testing::TestWithParam<std::string> {};

TEST_P(OracleModel, FoldedWeightsEqualPyTorchReparameterisation) {
    const std::string v = GetParam();
    LoadedModel train = load_quiet(fixture(v + ".pth.tar"));
    ASSERT_EQ(train.format, WeightFormat::TrainTime);
    TensorMap mine = fused_state_dict(folded_graph(train));
    TensorMap torch_fused = load_checkpoint(fixture(v + "_fused.pth.tar"));
    ASSERT_EQ(mine.size(), torch_fused.size());
    for (const auto &[key, ref] : torch_fused) {
        ASSERT_TRUE(mine.count(key)) << key;
        const Tensor &got = mine.at(key);
        ASSERT_EQ(got.shape, ref.shape) << key;
        double max_ref = 0, max_diff = 0;
        for (int64_t i = 0; i < ref.numel(); ++i) {
            max_ref = std::max(max_ref, std::fabs(double(ref.data[i])));
            max_diff = std::max(max_diff, std::fabs(double(got.data[i]) - ref.data[i]));
        }
        EXPECT_LE(max_diff, 1e-5 * max_ref) << key << ": max|diff| " << max_diff << " of max " << max_ref;
    }
}

TEST_P(OracleModel, EveryKeyIsParsedAndTheVariantIsDetected) {
    const std::string v = GetParam();
    nlohmann::json info = test::read_json(fixture(v + "_info.json"));
    for (const char *suffix : {".pth.tar", "_fused.pth.tar"}) {
        TensorMap raw = load_checkpoint(fixture(v + suffix));
        LoadedModel m = load_quiet(fixture(v + suffix));  // no --variant: detection
        EXPECT_EQ(m.spec.name, v) << suffix;
        // Every tensor in the file is one the spec expects (weight_problems lists extras).
        EXPECT_TRUE(weight_problems(m.spec, m.format, raw).empty()) << suffix;
    }
    EXPECT_EQ(load_checkpoint(fixture(v + ".pth.tar")).size(), info["num_keys"].get<size_t>());
}

TEST_P(OracleModel, ParamAndMacCountsEqualPyTorch) {
    const std::string v = GetParam();
    nlohmann::json info = test::read_json(fixture(v + "_info.json"));
    LoadedModel m = load_quiet(fixture(v + ".pth.tar"));
    Graph train = build_graph(m.spec, m.format, m.weights, InputShape{});
    EXPECT_EQ(graph_stats(train).params, info["train_params"].get<int64_t>());
    EXPECT_EQ(graph_stats(fold_and_fuse(train)).params, info["fused_params"].get<int64_t>());
    // MACs at the fixture's input shape, counted by the oracle with forward hooks.
    auto in = info["input_shape"];
    InputShape shape{in[0].get<int>(), in[2].get<int>(), in[3].get<int>()};
    Graph fused = fold_and_fuse(build_graph(m.spec, m.format, m.weights, shape));
    EXPECT_EQ(graph_stats(fused).macs, info["fused_macs"].get<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Oracle, OracleModel, ::testing::ValuesIn(kModels));

// Exact MAC sums, and the paper's rounded figures (MOBILEONE.md). The paper's S3 and S4
// MACs (1.8G, 2.9G) sit below the exact sums (1.896G, 2.979G): the paper rounds them down.
TEST(PaperFigures, FoldedParamsAndMacsAt224) {
    struct Row { const char *v; double params_m; double paper_gmacs; int64_t exact_macs; };
    const Row rows[] = {{"s0", 2.1, 0.275, 275110400},   {"s1", 4.8, 0.825, 825057024},
                        {"s2", 7.8, 1.3, 1298426496},    {"s3", 10.1, 1.8, 1895790592},
                        {"s4", 14.8, 2.9, 2979269760}};
    for (const Row &r : rows) {
        Graph fused = fold_and_fuse(build_shape_graph(*builtin_spec(r.v), WeightFormat::TrainTime, InputShape{}));
        OpStats s = graph_stats(fused);
        EXPECT_NEAR(s.params / 1e6, r.params_m, 0.05) << r.v;
        EXPECT_EQ(s.macs, r.exact_macs) << r.v;
        EXPECT_NEAR(s.macs / 1e9, r.paper_gmacs, 0.1) << r.v;
    }
}

TEST(Folding, FusedGraphIsOneConvPerBlockPlusHead) {
    Spec s0 = *builtin_spec("s0");
    Graph fused = fold_and_fuse(build_shape_graph(s0, WeightFormat::TrainTime, InputShape{}));
    EXPECT_EQ(fused.ops.size(), network_layout(s0).blocks.size() + 1);
    EXPECT_EQ(op_kind_name(fused.ops.front()), "conv2d+bias+relu");
    EXPECT_EQ(op_kind_name(fused.ops.back()), "pool+linear");
    Graph s4 = fold_and_fuse(build_shape_graph(*builtin_spec("s4"), WeightFormat::TrainTime, InputShape{}));
    EXPECT_EQ(op_kind_name(s4.ops[s4.ops.size() - 2]), "conv2d+bias+se+relu");
}

TEST(WeightCheck, WrongVariantNamesKeyAndShapes) {
    try {
        load_quiet(fixture("s0.pth.tar"), std::string("s1"));
        FAIL() << "s0 weights accepted as s1";
    } catch (const Error &e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(fixture("s0.pth.tar")), std::string::npos) << msg;
        EXPECT_NE(msg.find("stage0.rbr_conv.0.conv.weight: expected shape [64, 3, 3, 3], found [48, 3, 3, 3]"),
                  std::string::npos) << msg;
    }
}

TEST(WeightCheck, MissingUnexpectedAndNonFiniteAreReported) {
    Spec s0 = *builtin_spec("s0");
    TensorMap w = load_checkpoint(fixture("s0.pth.tar"));
    w.erase("stage2.3.rbr_skip.running_var");
    w["stage9.extra"] = Tensor::zeros({2});
    w["linear.bias"].data[7] = NAN;
    auto problems = weight_problems(s0, WeightFormat::TrainTime, w);
    std::string all;
    for (auto &p : problems) all += p + "\n";
    EXPECT_NE(all.find("missing key stage2.3.rbr_skip.running_var (expected shape [128])"), std::string::npos) << all;
    EXPECT_NE(all.find("unexpected key stage9.extra"), std::string::npos) << all;
    EXPECT_NE(all.find("key linear.bias: non-finite value"), std::string::npos) << all;
}

TEST(WeightCheck, CustomSpecFileLoadsItsCheckpoint) {
    LoadedModel m = load_quiet(fixture("custom.pth.tar"), std::nullopt, fixture("custom.json"));
    EXPECT_EQ(m.spec.num_classes, 10);
    EXPECT_EQ(m.spec.num_conv_branches, 2);
}
