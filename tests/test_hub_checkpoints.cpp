// Checkpoints as users have them: timm-named hub files (model.safetensors and
// pytorch_model.bin, train-time and reparameterised) and headless encoders, made by the
// oracle (tests/oracle/make_hub_fixtures.py) from the same weights as the authors' fixtures.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/naming.h"
#include "frontend/weight_check.h"
#include "npy.h"
#include "test_helpers.h"

namespace fs = std::filesystem;
using namespace m1c;
using test::fixture;
using test::hub;
using test::run_m1c;

namespace {

// The four files of a variant as the hub has them (both forms, both formats).
std::vector<std::string> hub_files(const std::string &v) {
    return {hub("timm_" + v + "/model.safetensors"), hub("timm_" + v + "/pytorch_model.bin"),
            hub("timm_" + v + "_reparam/model.safetensors"),
            hub("timm_" + v + "_reparam/pytorch_model.bin")};
}

// m1c run on the variant's reference input; max|diff| / max|logit| against PyTorch's.
double run_against_pytorch(const std::string &weights, const std::string &v, const std::string &tag) {
    const fs::path dir = test::fresh_dir("hub", tag);
    const std::string out = (dir / "logits.npy").string();
    auto r = run_m1c("run --weights " + weights + " --input " + fixture(v + "_input.npy") +
                     " --output " + out + " --threads 1");
    EXPECT_EQ(r.status, 0) << r.output;
    if (r.status != 0) return 1e9;
    return test::relative_max_diff(read_npy(out).data, read_npy(fixture(v + "_logits.npy")).data);
}

}  // namespace

TEST(Naming, AuthorsAndTimmKeysMapBothWaysForEveryExpectedTensor) {
    EXPECT_EQ(timm_key("stage0.rbr_conv.0.conv.weight"), "stem.conv_kxk.0.conv.weight");
    EXPECT_EQ(timm_key("stage3.9.se.reduce.bias"), "stages.2.9.attn.fc1.bias");
    EXPECT_EQ(timm_key("stage4.1.se.expand.weight"), "stages.3.1.attn.fc2.weight");
    EXPECT_EQ(timm_key("stage1.2.rbr_skip.running_var"), "stages.0.2.identity.running_var");
    EXPECT_EQ(timm_key("stage2.4.rbr_scale.bn.weight"), "stages.1.4.conv_scale.bn.weight");
    EXPECT_EQ(timm_key("stage2.4.reparam_conv.bias"), "stages.1.4.reparam_conv.bias");
    EXPECT_EQ(timm_key("linear.weight"), "head.fc.weight");
    for (const char *v : test::kVariants)
        for (WeightFormat f : {WeightFormat::TrainTime, WeightFormat::Fused})
            for (const ExpectedTensor &e : expected_tensors(*builtin_spec(v), f))
                EXPECT_EQ(authors_key(timm_key(e.key)), e.key);
    EXPECT_EQ(authors_key("stages.7.0.conv_kxk.0.conv.weight"), "stages.7.0.conv_kxk.0.conv.weight");
}

TEST(Naming, TimmSqueezeExciteSizesAgreeWithTheAuthorsForS0ToS4) {
    EXPECT_EQ(timm_se_channels(896), 56);
    EXPECT_EQ(timm_se_channels(2048), 128);
    for (const char *v : test::kVariants) EXPECT_NO_THROW(check_timm_se_agrees(*builtin_spec(v), "x"));
    // The oracle's custom spec: 192 channels, int(192 * 0.0625) = 12 but timm makes 16.
    try {
        check_timm_se_agrees(resolve_spec(std::nullopt, fixture("custom.json")), "f.bin");
        ADD_FAILURE() << "accepted";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("make_divisible(192 / 16, 8) = 16"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("int(192 * 0.0625) = 12"), std::string::npos) << e.what();
    }
}

TEST(HubCheckpoints, LoadAsTheAuthorsWeightsInEveryFileAndForm) {
    for (const char *v : {"s0", "s4"}) {
        const auto files = hub_files(v);
        for (size_t i = 0; i < files.size(); ++i) {
            ModelRequest req;
            req.weights_path = files[i];
            std::ostringstream log;
            LoadedModel m = load_model(req, log);
            EXPECT_EQ(m.spec.name, v) << files[i];
            EXPECT_EQ(m.naming, Naming::Timm);
            EXPECT_NE(log.str().find("timm naming"), std::string::npos) << log.str();
            const TensorMap authors = load_checkpoint(fixture(std::string(v) + (i < 2 ? ".pth.tar" : "_fused.pth.tar")));
            ASSERT_EQ(m.weights.size(), authors.size()) << files[i];
            for (const auto &[key, t] : authors) {
                auto it = m.weights.find(key);
                ASSERT_NE(it, m.weights.end()) << files[i] << " lacks " << key;
                EXPECT_EQ(it->second.shape, t.shape) << key;
                EXPECT_EQ(it->second.data, t.data) << key;
            }
        }
    }
}

TEST(HubCheckpoints, S0FilesRunAndMatchPyTorch) {
    const auto files = hub_files("s0");
    for (size_t i = 0; i < files.size(); ++i)
        EXPECT_LE(run_against_pytorch(files[i], "s0", "s0_" + std::to_string(i)), 1e-4) << files[i];
}

TEST(HubCheckpoints, S4FilesRunAndMatchPyTorch) {
    // Train-time safetensors and reparameterised torch.save: both readers, both forms, SE.
    const auto files = hub_files("s4");
    for (size_t i : {0, 3})
        EXPECT_LE(run_against_pytorch(files[i], "s4", "s4_" + std::to_string(i)), 1e-4) << files[i];
}

TEST(HubCheckpoints, S0CompiledLibraryLinkedFromCMatchesPyTorch) {
    const fs::path dir = test::fresh_dir("hub", "s0_lib");
    auto r = run_m1c("compile --weights " + hub("timm_s0/model.safetensors") +
                     " --name timm_s0 --out-dir " + dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string src = std::string(M1C_SOURCE_DIR) + "/tests/c";
    r = test::run_command("cc -std=c99 -D_POSIX_C_SOURCE=200112L -O1 '-DM1C_HEADER=\"timm_s0.h\"' -DM1C_NAME=timm_s0 -I" +
                          dir.string() + " -I" + src + " " + src + "/run_model.c " +
                          (dir / "libtimm_s0.a").string() + " -lpthread -ldl -lm -o " +
                          (dir / "run").string());
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::run_command((dir / "run").string() + " " + fixture("s0_input.npy") + " " +
                          fixture("s0_logits.npy"));
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(HubCheckpoints, TimmSpecWhoseSqueezeExciteDiffersIsRefused) {
    auto r = run_m1c("inspect --weights " + hub("timm_custom/model.safetensors"));
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("timm reduces to make_divisible"), std::string::npos) << r.output;
}

TEST(HubCheckpoints, PartialMatchNamesTheNamingAndTheFirstMissingKey) {
    TensorMap w = load_checkpoint(hub("timm_s0/model.safetensors"));
    w.erase("stages.1.3.conv_kxk.2.conv.weight");
    w.erase("stages.2.0.conv_scale.bn.running_mean");
    const std::string path = (test::fresh_dir("hub", "partial") / "model.safetensors").string();
    save_safetensors(path, w);
    auto r = run_m1c("inspect --variant s0 --weights " + path);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("timm naming"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("problem(s):\n  missing key stages.1.3.conv_kxk.2.conv.weight"), std::string::npos)
        << r.output;
    // Without --variant the detection names the naming as well.
    w.erase("stages.3.1.conv_kxk.0.conv.weight");
    w.erase("stages.3.1.conv_kxk.1.conv.weight");
    w.erase("stages.3.1.conv_kxk.2.conv.weight");
    w.erase("stages.3.1.conv_kxk.3.conv.weight");
    save_safetensors(path, w);
    r = run_m1c("inspect --weights " + path);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("(timm naming): no weight for block stages.3.1"), std::string::npos) << r.output;
}

TEST(HubCheckpoints, FoldWritesEitherNaming) {
    const fs::path dir = test::fresh_dir("hub", "fold");
    const std::string timm = (dir / "timm.safetensors").string(), authors = (dir / "a.safetensors").string();
    ASSERT_EQ(run_m1c("fold --weights " + hub("timm_s4/pytorch_model.bin") + " --names timm --out " + timm).status, 0);
    ASSERT_EQ(run_m1c("fold --weights " + hub("timm_s4/pytorch_model.bin") + " --out " + authors).status, 0);
    const TensorMap t = load_checkpoint(timm), a = load_checkpoint(authors);
    ASSERT_EQ(t.size(), a.size());
    EXPECT_TRUE(t.count("stem.reparam_conv.weight"));
    EXPECT_TRUE(t.count("stages.3.1.attn.fc2.bias"));
    EXPECT_TRUE(t.count("head.fc.weight"));
    for (const auto &[key, tensor] : a) EXPECT_EQ(t.at(timm_key(key)).data, tensor.data) << key;
    auto r = run_m1c("inspect --weights " + timm);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("detected variant s4"), std::string::npos) << r.output;
    EXPECT_EQ(run_m1c("fold --weights " + timm + " --names hf --out " + authors).status, 2);
}

TEST(HeadlessCheckpoints, LoadAndAClassifierBuildSaysTheHeadIsMissing) {
    for (const std::string f : {hub("s0_headless.pth.tar"), hub("timm_s4_headless.safetensors")}) {
        auto r = run_m1c("inspect --weights " + f);
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_NE(r.output.find("headless"), std::string::npos) << r.output;
        const fs::path dir = test::fresh_dir("hub", "headless");
        r = run_m1c("compile --weights " + f + " --name x --out-dir " + (dir / "out").string());
        EXPECT_EQ(r.status, 1) << r.output;
        EXPECT_NE(r.output.find("no classifier head"), std::string::npos) << r.output;
        EXPECT_NE(r.output.find("--features"), std::string::npos) << r.output;
        EXPECT_FALSE(fs::exists(dir / "out"));
        r = run_m1c("run --weights " + f + " --input " + fixture("s0_input.npy"));
        EXPECT_EQ(r.status, 1) << r.output;
        EXPECT_NE(r.output.find("no classifier head"), std::string::npos) << r.output;
    }
}
