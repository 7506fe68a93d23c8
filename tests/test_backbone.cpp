// Backbone builds (--features): the stage feature maps of S0, S4 and the custom spec at
// 256x320, batch 2, against PyTorch forward hooks on the authors' model
// (tests/oracle/make_hub_fixtures.py): JIT (`m1c run --output F.npz`, read back by numpy),
// a host library and a firmware library linked from C, headless checkpoints, errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "frontend/spec.h"
#include "passes/passes.h"
#include "test_helpers.h"

namespace fs = std::filesystem;
using namespace m1c;
using test::fixture;
using test::hub;
using test::run_m1c;

namespace {

const char *kAll = "stage1,stage2,stage3,stage4";

// numpy compares each array of `npz` with hub/<v>_feat_<name>.npy: max|diff| <= 1e-4 max|ref|
// (float32), or with `min_cosine` > 0 (int8 against PyTorch's float32) a cosine similarity of
// at least that.
test::CommandResult compare_npz(const std::string &npz, const std::string &v, double min_cosine = 0) {
    const std::string script =
        "import numpy as np, sys\n"
        "z = np.load(sys.argv[1]); bad = 0; min_cos = float(sys.argv[3])\n"
        "for name in z.files:\n"
        "    ref = np.load(sys.argv[2] + '_feat_' + name + '.npy').astype(np.float64); got = z[name]\n"
        "    assert got.shape == ref.shape, (name, got.shape, ref.shape)\n"
        "    err = float(np.abs(got - ref).max() / np.abs(ref).max())\n"
        "    cos = float((got * ref).sum() / np.sqrt((got * got).sum() * (ref * ref).sum()))\n"
        "    print(name, got.shape, 'max rel diff', err, 'cosine', cos)\n"
        "    bad |= not (cos >= min_cos if min_cos > 0 else err <= 1e-4)\n"
        "sys.exit(bad)\n";
    return test::run_command("/usr/bin/python3 -c \"" + script + "\" " + npz + " " + hub(v) + " " +
                             std::to_string(min_cosine));
}

// int8 feature maps against PyTorch's float32 ones (random weights and BatchNorm statistics,
// calibrated on other random images of the same distribution): cosine similarity.
constexpr double kInt8MinCosine = 0.99;

std::string spec_args(const std::string &v) {
    return v == "custom" ? " --spec " + fixture("custom.json") : "";
}

// How a library is linked and run: here, or cross-linked for ARM64 and run under qemu.
struct Toolchain {
    std::string cc = "cc", runner;
};
// ARM64: cross-linked, run under qemu (skipped when either tool is missing).
const Toolchain kArm64{"aarch64-linux-gnu-gcc", "qemu-aarch64 -L /usr/aarch64-linux-gnu "};
bool have_arm64_tools() {
    return test::run_command("command -v qemu-aarch64 && command -v aarch64-linux-gnu-gcc").status == 0;
}

// The reference input and hub/<ref>_feat_stage1..4.npy (batch 2); for batch 1, their first
// image, written into `dir` by numpy (NCHW: the first half of each array). Returns the
// arguments of tests/c/run_features.c.
std::string reference_args(const fs::path &dir, const std::string &v, const std::string &ref, int batch) {
    std::string args = hub(v + "_feat_input.npy");
    for (int s = 1; s <= 4; ++s) args += " " + hub(ref + "_feat_stage" + std::to_string(s) + ".npy");
    if (batch == 2) return args;
    const std::string script =
        "import numpy as np, os, sys\n"
        "for f in sys.argv[2:]:\n"
        "    np.save(os.path.join(sys.argv[1], os.path.basename(f)), np.load(f)[:1])\n";
    const auto r = test::run_command("/usr/bin/python3 -c \"" + script + "\" " + dir.string() + " " + args);
    EXPECT_EQ(r.status, 0) << r.output;
    std::string sliced;
    for (size_t start = 0; start < args.size();) {
        size_t end = args.find(' ', start);
        if (end == std::string::npos) end = args.size();
        sliced += " " + (dir / fs::path(args.substr(start, end - start)).filename()).string();
        start = end + 1;
    }
    return sliced;
}

// Compiles `v` with every feature and links tests/c/run_features.c; runs it on the reference
// hub/<ref>_feat_stage*.npy (default: v's; "custom_os8": at output stride 8), batch 2 or
// (slow qemu runs) the first image only.
void compile_and_check(const std::string &v, const std::string &weights, const std::string &extra,
                       const std::string &tag, bool firmware, const Toolchain &tc = {},
                       std::string ref = "", int batch = 2) {
    if (ref.empty()) ref = v;
    const fs::path dir = test::fresh_dir("backbone", tag);
    auto r = run_m1c("compile --weights " + weights + spec_args(v) + " --features " + kAll +
                     " --input-size 256x320 --batch " + std::to_string(batch) + " --name " + tag +
                     " --out-dir " + dir.string() + extra);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto manifest = test::read_json((dir / (tag + ".json")).string());
    ASSERT_EQ(manifest["features"].size(), 4u);
    EXPECT_EQ(manifest["features"][3]["stride"], ref == v ? 32 : ref.find("os16") != std::string::npos ? 16 : 8);
    const bool int8 = extra.find("--precision int8") != std::string::npos;
    EXPECT_EQ(manifest["precision"]["precision"], int8 ? "int8" : "f32");
    const std::string src = std::string(M1C_SOURCE_DIR) + "/tests/c";
    r = test::run_command(tc.cc + " -std=c99 -O1 '-DM1C_HEADER=\"" + tag + ".h\"' -DM1C_NAME=" + tag +
                          (firmware ? " -DM1C_FIRMWARE" : "") +
                          (int8 ? " -DM1C_MIN_COSINE=" + std::to_string(kInt8MinCosine) : "") +
                          " -I" + dir.string() + " -I" + src +
                          " " + src + "/run_features.c " + (dir / ("lib" + tag + ".a")).string() +
                          " -lpthread -ldl -lm -o " + (dir / "run").string());
    ASSERT_EQ(r.status, 0) << r.output;
    r = test::run_command(tc.runner + (dir / "run").string() + " " + reference_args(dir, v, ref, batch));
    EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace

TEST(BackboneGraph, SelectFeaturesKeepsOnlyWhatTheStagesNeed) {
    const InputShape shape{2, 256, 320};
    const Graph full = fold_and_fuse(build_shape_graph(*builtin_spec("s0"), WeightFormat::Fused, shape));
    Graph g = full;
    select_features(g, {1, 2, 3, 4});
    ASSERT_EQ(g.features.size(), 4u);
    const int expected[4][4] = {{2, 48, 64, 80}, {2, 128, 32, 40}, {2, 256, 16, 20}, {2, 1024, 8, 10}};
    for (int i = 0; i < 4; ++i) {
        const Value &v = g.values[g.features[i]];
        EXPECT_EQ((std::array<int, 4>{v.n, v.c, v.h, v.w}),
                  (std::array<int, 4>{expected[i][0], expected[i][1], expected[i][2], expected[i][3]}));
        EXPECT_EQ(g.feature_names[i], "stage" + std::to_string(i + 1));
    }
    EXPECT_EQ(g.ops.size(), full.ops.size() - 1);  // the head only
    Graph two = full;
    select_features(two, {2});
    EXPECT_EQ(two.ops.size(), 1u + 4u + 16u);  // stem, stage1 (2 repeats), stage2 (8 repeats)
    EXPECT_EQ(two.output, two.features[0]);
    check_codegen_form(two);
    Graph bad = full;
    EXPECT_THROW(select_features(bad, {2, 1}), Error);
    EXPECT_THROW(select_features(bad, {}), Error);
}

TEST(BackboneRun, CustomSpecFeaturesMatchPyTorchHooks) {
    const fs::path dir = test::fresh_dir("backbone", "run_custom");
    const std::string out = (dir / "f.npz").string();
    auto r = run_m1c("run --weights " + fixture("custom.pth.tar") + spec_args("custom") + " --features " +
                     kAll + " --input " + hub("custom_feat_input.npy") + " --output " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("stage4: [2, 512, 8, 10] (stride 32)"), std::string::npos) << r.output;
    r = compare_npz(out, "custom");
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(BackboneRun, S0FromAHeadlessTimmEncoderMatchesPyTorchHooks) {
    const fs::path dir = test::fresh_dir("backbone", "run_s0");
    const std::string out = (dir / "f.npz").string();
    auto r = run_m1c("run --weights " + hub("timm_s0_headless.safetensors") + " --features " + kAll +
                     " --input " + hub("s0_feat_input.npy") + " --output " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    r = compare_npz(out, "s0");
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(BackboneRun, S4SubsetOfStagesMatchesPyTorchHooks) {
    const fs::path dir = test::fresh_dir("backbone", "run_s4");
    const std::string out = (dir / "f.npz").string();
    auto r = run_m1c("run --weights " + fixture("s4_fused.pth.tar") + " --features stage2,stage4 --input " +
                     hub("s4_feat_input.npy") + " --output " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    r = compare_npz(out, "s4");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("stage2"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("stage1"), std::string::npos) << r.output;
}

TEST(BackboneLibrary, CustomSpecHostLibraryFromCMatchesPyTorch) {
    compile_and_check("custom", fixture("custom.pth.tar"), "", "bb_custom", false);
}

TEST(BackboneLibrary, CustomSpecFirmwareLibraryFromCMatchesPyTorch) {
    compile_and_check("custom", fixture("custom.pth.tar"), " --firmware", "bb_custom_fw", true);
}

TEST(BackboneLibrary, S0HeadlessHostLibraryFromCMatchesPyTorch) {
    compile_and_check("s0", hub("s0_headless.pth.tar"), "", "bb_s0", false);
}

TEST(BackboneLibrary, CustomSpecArm64LibraryUnderQemuMatchesPyTorch) {
    if (!have_arm64_tools()) GTEST_SKIP() << "qemu-aarch64 or aarch64-linux-gnu-gcc missing";
    compile_and_check("custom", fixture("custom.pth.tar"), " --target arm-64-linux", "bb_custom_arm", false,
                      kArm64);
}

// ---- --output-stride 16 | 8: dilated stages, as segmentation_models_pytorch makes them ----
TEST(BackboneGraph, OutputStrideKeepsTheResolutionOfTheLastStages) {
    const InputShape shape{1, 256, 320};
    const Graph full = fold_and_fuse(build_shape_graph(*builtin_spec("s0"), WeightFormat::Fused, shape));
    for (int os : {16, 8}) {
        Graph g = full;
        dilate_stages(g, os);
        select_features(g, {3, 4});
        EXPECT_EQ(g.values[g.features[0]].h, os == 8 ? 32 : 16);
        EXPECT_EQ(g.values[g.features[1]].h, 256 / os);
        EXPECT_EQ(g.values[g.features[1]].w, 320 / os);
        for (const Op &op : g.ops)
            if (op.name.rfind("stage4.0", 0) == 0 && op.as<Conv2dAttrs>().kernel == 3) {
                EXPECT_EQ(op.as<Conv2dAttrs>().stride, 1);
                EXPECT_EQ(op.as<Conv2dAttrs>().dilation, os == 16 ? 2 : 4);
                EXPECT_EQ(op.as<Conv2dAttrs>().pad, os == 16 ? 2 : 4);
            }
    }
    Graph g = full;
    EXPECT_THROW(dilate_stages(g, 4), Error);
}

TEST(BackboneRun, CustomSpecAtOutputStride16And8MatchesPyTorchHooks) {
    for (const std::string os : {"16", "8"}) {
        const fs::path dir = test::fresh_dir("backbone", "run_custom_os" + os);
        const std::string out = (dir / "f.npz").string();
        auto r = run_m1c("run --weights " + fixture("custom.pth.tar") + spec_args("custom") + " --features " +
                         kAll + " --output-stride " + os + " --input " + hub("custom_feat_input.npy") +
                         " --output " + out);
        ASSERT_EQ(r.status, 0) << r.output;
        EXPECT_NE(r.output.find("(stride " + os + ")"), std::string::npos) << r.output;
        r = compare_npz(out, "custom_os" + os);
        EXPECT_EQ(r.status, 0) << os << "\n" << r.output;
    }
}

TEST(BackboneRun, S0AtOutputStride8MatchesPyTorchHooks) {
    const fs::path dir = test::fresh_dir("backbone", "run_s0_os8");
    const std::string out = (dir / "f.npz").string();
    auto r = run_m1c("run --weights " + hub("timm_s0_reparam/model.safetensors") + " --features " + kAll +
                     " --output-stride 8 --input " + hub("s0_feat_input.npy") + " --output " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    r = compare_npz(out, "s0_os8");
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(BackboneLibrary, CustomSpecOutputStride8HostLibraryFromCMatchesPyTorch) {
    compile_and_check("custom", fixture("custom.pth.tar"), " --output-stride 8", "bb_custom_os8", false, {},
                      "custom_os8");
}

TEST(BackboneLibrary, CustomSpecOutputStride16FirmwareLibraryFromCMatchesPyTorch) {
    compile_and_check("custom", fixture("custom.pth.tar"), " --output-stride 16 --firmware", "bb_custom_os16_fw",
                      true, {}, "custom_os16");
}

TEST(BackboneLibrary, CustomSpecOutputStride8Arm64LibraryUnderQemuMatchesPyTorch) {
    if (!have_arm64_tools()) GTEST_SKIP() << "qemu-aarch64 or aarch64-linux-gnu-gcc missing";
    compile_and_check("custom", fixture("custom.pth.tar"), " --output-stride 8 --target arm-64-linux",
                      "bb_custom_os8_arm", false,
                      kArm64, "custom_os8");
}

// S0 and S4 for ARM64 under qemu, dilated (S4: stage4's squeeze-excite blocks too), one
// image: the emulated NEON code is slow (S4: ~35 s of qemu, ~25 s of Halide compile).
TEST(BackboneLibrary, S0OutputStride8Arm64LibraryUnderQemuMatchesPyTorch) {
    if (!have_arm64_tools()) GTEST_SKIP() << "qemu-aarch64 or aarch64-linux-gnu-gcc missing";
    compile_and_check("s0", hub("timm_s0_reparam/model.safetensors"), " --output-stride 8 --target arm-64-linux",
                      "bb_s0_os8_arm", false, kArm64, "s0_os8", /*batch=*/1);
}

TEST(BackboneLibrary, S4OutputStride16Arm64LibraryUnderQemuMatchesPyTorch) {
    if (!have_arm64_tools()) GTEST_SKIP() << "qemu-aarch64 or aarch64-linux-gnu-gcc missing";
    compile_and_check("s4", fixture("s4_fused.pth.tar"), " --output-stride 16 --target arm-64-linux",
                      "bb_s4_os16_arm", false, kArm64, "s4_os16", /*batch=*/1);
}

TEST(BackboneCli, InspectShowsDilatedLayersAtOutputStride8) {
    auto r = run_m1c("inspect --json --variant s0 --input-size 256x320 --features stage4 --output-stride 8");
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["features"][0]["shape"], nlohmann::json({1, 1024, 32, 40}));
    EXPECT_EQ(j["features"][0]["stride"], 8);
    bool dilated4 = false;
    for (const auto &l : j["layers"]) dilated4 |= l.value("dilation", 1) == 4;
    EXPECT_TRUE(dilated4);
    EXPECT_EQ(run_m1c("inspect --variant s0 --features stage4 --output-stride 4").status, 2);
    r = run_m1c("compile --weights " + fixture("s0_fused.pth.tar") + " --output-stride 16 --name x --out-dir " +
                std::string(M1C_BUILD_DIR) + "/backbone/never");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("--output-stride needs --features"), std::string::npos) << r.output;
}

TEST(BackboneCli, InspectListsFeatureShapes) {
    auto r = run_m1c("inspect --json --variant s0 --input-size 256x320 --features stage1,stage3");
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output);
    ASSERT_EQ(j["features"].size(), 2u);
    EXPECT_EQ(j["features"][1]["shape"], nlohmann::json({1, 256, 16, 20}));
    EXPECT_EQ(j["features"][1]["stride"], 16);
    EXPECT_EQ(j["layers"].back()["name"], "stage3.19");
}

TEST(BackboneCli, ErrorsAreClear) {
    struct Case { std::string args, expected; };
    const std::string s0 = "compile --weights " + fixture("s0_fused.pth.tar") + " --name x --out-dir " +
                           std::string(M1C_BUILD_DIR) + "/backbone/never";
    const Case cases[] = {
        {s0 + " --features stage5", "\"stage5\" is not stage1..stage4"},
        {s0 + " --features stage2,stage1", "out of order or repeated"},
        {s0 + " --features stage1,,stage2", "is not stage1..stage4"},
        {s0 + " --features stage4 --autoscheduler Li2018", "not available for backbone builds"},
        {"run --weights " + fixture("s0_fused.pth.tar") + " --features stage4 --input " +
             fixture("s0_input.npy") + " --output x.npy", "name the file *.npz"},
    };
    for (const Case &c : cases) {
        auto r = run_m1c(c.args);
        EXPECT_EQ(r.status, 1) << c.args << "\n" << r.output;
        EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
    }
    EXPECT_FALSE(fs::exists(std::string(M1C_BUILD_DIR) + "/backbone/never"));
}

// ---- int8 backbones (--precision int8 --features): calibrated on the backbone's own graph ----

TEST(BackboneInt8, CustomSpecAtEveryOutputStrideCloseToPyTorch) {
    for (const std::string os : {"32", "16", "8"}) {
        const fs::path dir = test::fresh_dir("backbone", "run_custom_i8_os" + os);
        const std::string out = (dir / "f.npz").string(), cal = (dir / "cal.json").string();
        auto r = run_m1c("run --weights " + fixture("custom.pth.tar") + spec_args("custom") + " --features " +
                         kAll + " --output-stride " + os + " --precision int8 --calibration random:8" +
                         " --save-calibration " + cal + " --input " + hub("custom_feat_input.npy") +
                         " --output " + out);
        ASSERT_EQ(r.status, 0) << r.output;
        r = compare_npz(out, os == "32" ? "custom" : "custom_os" + os, kInt8MinCosine);
        EXPECT_EQ(r.status, 0) << os << "\n" << r.output;
        // The calibration is of the backbone's graph: its output stride, no head.
        const auto j = test::read_json(cal);
        EXPECT_EQ(j["output_stride"], std::stoi(os));
        for (const auto &t : j["tensors"]) EXPECT_EQ(t["name"].get<std::string>().find("pooled"), std::string::npos);
    }
}

TEST(BackboneInt8, S0HostLibraryAtOutputStride16FromCCloseToPyTorch) {
    compile_and_check("s0", hub("s0_headless.pth.tar"),
                      " --output-stride 16 --precision int8 --calibration random:8", "bb_s0_i8_os16", false, {},
                      "s0_os16");
}

TEST(BackboneInt8, CustomSpecFirmwareLibraryFromCCloseToPyTorch) {
    compile_and_check("custom", fixture("custom.pth.tar"), " --output-stride 8 --firmware --precision int8 "
                      "--calibration random:8", "bb_custom_i8_fw", true, {}, "custom_os8");
}

TEST(BackboneInt8, CustomSpecArm64LibraryUnderQemuCloseToPyTorch) {
    if (test::run_command("command -v qemu-aarch64 && command -v aarch64-linux-gnu-gcc").status != 0)
        GTEST_SKIP() << "qemu-aarch64 or aarch64-linux-gnu-gcc missing";
    compile_and_check("custom", fixture("custom.pth.tar"),
                      " --output-stride 16 --target arm-64-linux-arm_dot_prod --precision int8 --calibration random:8",
                      "bb_custom_i8_arm", false,
                      Toolchain{"aarch64-linux-gnu-gcc", "qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "},
                      "custom_os16");
}

// A calibration holds the values of the graph it observed: the dilated stages of another
// output stride compute other values under the same op names.
TEST(BackboneInt8, CalibrationOfAnotherOutputStrideIsRefused) {
    const fs::path dir = test::fresh_dir("backbone", "i8_cal_stride");
    const std::string cal = (dir / "os32.json").string();
    const std::string base = "compile --weights " + fixture("custom.pth.tar") + spec_args("custom") +
                             " --input-size 64x64 --features stage4 --precision int8 --name x --out-dir " +
                             (dir / "lib").string();
    auto r = run_m1c(base + " --calibration random:2 --save-calibration " + cal);
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_m1c(base + " --output-stride 8 --calibration " + cal);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("os32.json: calibrated at output stride 32, this build has output stride 8"),
              std::string::npos) << r.output;
}
