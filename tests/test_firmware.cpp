// Firmware builds: the memory planner on synthetic traces, the single-threaded schedule, and
// compile_library / memory_report / the CLI with --firmware on the custom spec (small: fast).
// The libraries themselves run in tests/firmware.cmake (heap and thread calls trapped).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codegen/codegen.h"
#include "codegen/firmware.h"
#include "codegen/lowered.h"
#include "codegen/memory_plan.h"
#include "codegen/object_sizes.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "frontend/load_model.h"
#include "passes/pipeline.h"
#include "schedule.h"  // schedules/
#include "test_helpers.h"

namespace fs = std::filesystem;
using namespace m1c;
using codegen::MemoryPlan;

namespace {

fs::path scratch_dir(const std::string &name) {
    fs::path d = fs::path(M1C_BUILD_DIR) / "test_scratch" / "firmware" / name;
    fs::remove_all(d);
    fs::create_directories(d.parent_path());
    return d;
}

std::string read_text(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A trace from (bytes, alloc event, free event) triples.
codegen::AllocationTrace trace_of(std::vector<std::array<int64_t, 3>> blocks) {
    codegen::AllocationTrace t;
    for (auto &b : blocks) {
        t.allocations.push_back({b[0], int(b[1]), int(b[2])});
        t.events = std::max<int>(t.events, int(b[2]) + 1);
    }
    return t;
}

void expect_valid(const MemoryPlan &plan) {
    for (size_t i = 0; i < plan.blocks.size(); ++i) {
        const auto &a = plan.blocks[i];
        EXPECT_EQ(a.offset % MemoryPlan::kAlignment, 0);
        EXPECT_GE(a.offset, MemoryPlan::kGuardBytes);
        EXPECT_LE(a.offset + a.bytes + MemoryPlan::kGuardBytes, plan.workspace_bytes);
        for (size_t j = 0; j < i; ++j) {
            const auto &b = plan.blocks[j];
            const bool live_together = a.alloc_event < b.free_event && b.alloc_event < a.free_event;
            const bool share = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
            EXPECT_FALSE(live_together && share) << "blocks " << j << " and " << i;
        }
    }
    EXPECT_GE(plan.workspace_bytes, plan.peak_live_bytes + 2 * MemoryPlan::kGuardBytes);
}

struct CustomModel : test::FixtureModel {
    InputShape shape{1, 64, 64};
};

CustomModel custom_model() {
    CustomModel c;
    static_cast<test::FixtureModel &>(c) = test::load_fixture_model("custom.json", "custom.pth.tar", c.shape);
    return c;
}

}  // namespace

// ---- memory planning --------------------------------------------------------------------
TEST(FirmwareMemoryPlan, ChainPingPongsBetweenTwoBuffers) {
    // a -> b -> c -> d, each freed once the next is computed: two buffers suffice.
    auto t = trace_of({{1000, 0, 2}, {1000, 1, 4}, {1000, 3, 6}, {1000, 5, 7}});
    MemoryPlan plan = codegen::plan_memory(t, Graph{});
    expect_valid(plan);
    EXPECT_EQ(plan.peak_live_bytes, 2 * 1024);
    EXPECT_EQ(plan.workspace_bytes, 2 * 1024 + 2 * MemoryPlan::kGuardBytes);
    EXPECT_EQ(plan.blocks[0].offset, plan.blocks[2].offset);
    EXPECT_EQ(plan.blocks[1].offset, plan.blocks[3].offset);
    EXPECT_EQ(plan.sum_block_bytes, 4 * 1024);
}

TEST(FirmwareMemoryPlan, BestFitReusesTheSmallestGapThatHolds) {
    // A big and a small block live early; later a small one fits the small one's hole.
    auto t = trace_of({{4096, 0, 9}, {256, 1, 3}, {8192, 2, 9}, {200, 4, 9}});
    MemoryPlan plan = codegen::plan_memory(t, Graph{});
    expect_valid(plan);
    EXPECT_EQ(plan.blocks[3].offset, plan.blocks[1].offset);  // the freed 256-byte hole
    EXPECT_EQ(plan.workspace_bytes, plan.peak_live_bytes + 2 * MemoryPlan::kGuardBytes);
}

TEST(FirmwareMemoryPlan, RandomTracesNeverOverlapLiveBlocks) {
    std::mt19937 rng(7);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::array<int64_t, 3>> blocks;
        std::vector<int> open;
        int event = 0;
        for (int i = 0; i < 40; ++i) {
            if (!open.empty() && rng() % 2) {
                size_t k = rng() % open.size();
                blocks[size_t(open[k])][2] = event++;
                open.erase(open.begin() + long(k));
            }
            open.push_back(int(blocks.size()));
            blocks.push_back({int64_t(1 + rng() % 100000), event++, -1});
        }
        for (int k : open) blocks[size_t(k)][2] = event++;
        MemoryPlan plan = codegen::plan_memory(trace_of(blocks), Graph{});
        expect_valid(plan);
        EXPECT_LT(plan.workspace_bytes, plan.sum_block_bytes + 2 * MemoryPlan::kGuardBytes + 1);
    }
}

TEST(FirmwareMemoryPlan, EmptyAndMalformedTraces) {
    MemoryPlan plan = codegen::plan_memory(codegen::AllocationTrace{}, Graph{});
    EXPECT_EQ(plan.workspace_bytes, 0);
    EXPECT_THROW(codegen::plan_memory(trace_of({{10, 3, 3}}), Graph{}), Error);
    EXPECT_THROW(codegen::plan_memory(trace_of({{-1, 0, 1}}), Graph{}), Error);
}

// ---- the single-threaded schedule -------------------------------------------------------
TEST(FirmwareSchedule, SingleThreadedLeavesNoParallelLoop) {
    CustomModel c = custom_model();
    const Halide::Target target = codegen::parse_target("x86-64-linux-avx2-fma");
    {
        codegen::LoweredPipeline p = codegen::lower(c.fused, c.shape, false);
        schedules::apply_default_schedule(p, target);  // the ordinary, threaded schedule
        Halide::Module m = Halide::Pipeline(p.output).compile_to_module(p.arguments(), "t", target);
        EXPECT_THROW(codegen::check_single_threaded(m), Error) << "the check must be able to fail";
        EXPECT_GT(schedules::serialize_parallel_loops(p.output), 0);
        Halide::Module serial = Halide::Pipeline(p.output).compile_to_module(p.arguments(), "t", target);
        EXPECT_NO_THROW(codegen::check_single_threaded(serial));
    }
    codegen::LoweredPipeline p = codegen::lower(c.fused, c.shape, false);
    schedules::ScheduleOptions o;
    o.single_threaded = true;
    auto report = schedules::apply_default_schedule(p, target, o);
    EXPECT_EQ(report.name, "default/x86-avx2/single-threaded");
    Halide::Module m = Halide::Pipeline(p.output).compile_to_module(p.arguments(), "t", target);
    EXPECT_NO_THROW(codegen::check_single_threaded(m));
}

// ---- compile_library --firmware, memory_report ------------------------------------------
TEST(FirmwareCompile, HeaderManifestAndPlanAgree) {
    CustomModel c = custom_model();
    fs::path dir = scratch_dir("custom");
    CompileOptions o;
    o.target = "x86-64-linux";
    o.name = "cfw";
    o.out_dir = dir.string();
    o.firmware = true;
    std::ostringstream log;
    compile_library(c.model, c.fused, c.shape, o, log);
    EXPECT_NE(log.str().find("workspace "), std::string::npos) << log.str();
    auto j = nlohmann::json::parse(read_text(dir / "cfw.json"));
    EXPECT_TRUE(j["firmware"].get<bool>());
    EXPECT_NE(j["target"].get<std::string>().find("x86-64-noos"), std::string::npos) << j["target"];
    EXPECT_EQ(j["schedule"]["name"], "default/x86-sse/single-threaded");
    const auto &mem = j["memory"];
    const int64_t ws = mem["workspace_bytes"];
    EXPECT_GT(ws, 0);
    EXPECT_LT(ws, mem["naive_activation_bytes"].get<int64_t>());
    EXPECT_EQ(mem["blocks"].size(), mem["allocations"].get<size_t>());
    EXPECT_GT(j["sizes"]["code_bytes"].get<int64_t>(), 10000);
    EXPECT_EQ(j["sizes"]["weight_bytes"], j["weights"]["bytes"]);
    EXPECT_GE(j["sizes"]["rodata_bytes"].get<int64_t>(), j["weights"]["bytes"].get<int64_t>());

    const std::string h = read_text(dir / "cfw.h");
    for (const std::string &s : std::vector<std::string>{
             "static inline size_t cfw_workspace_bytes(void)",
          "static inline int cfw_run_in(const float *input, float *logits, void *workspace)",
          "static inline int cfw_run_in_sized(const float *input, float *logits, void *workspace,",
          "#define cfw_WORKSPACE_BYTES " + std::to_string(ws) + "u",
          "#define cfw_WORKSPACE_ALIGNMENT 64", "#define cfw_ERR_BAD_WORKSPACE 5",
          "#define cfw_ERR_WORKSPACE_TOO_SMALL 6",
          "#define cfw_WORKSPACE_BLOCKS " + std::to_string(mem["allocations"].get<int>()),
          std::string("M1C_SHARED void *halide_malloc(void *user_context, size_t bytes)")})
        EXPECT_NE(h.find(s), std::string::npos) << "cfw.h lacks: " << s;
    for (const char *s : {"cfw_run(", "halide_set_num_threads(m1c", "getenv(\"M1C"})
        EXPECT_EQ(h.find(std::string("static inline int ") + s), std::string::npos) << s;
    // The plan table in the header is the manifest's blocks, in order.
    std::string table;
    for (const auto &b : mem["blocks"])
        table += "    " + std::to_string(b["offset"].get<int64_t>()) + "u, " +
                 std::to_string(b["bytes"].get<int64_t>()) + "u,\n";
    EXPECT_NE(h.find("cfw_m1c_plan[" + std::to_string(2 * mem["blocks"].size()) + "] = {\n" + table + "};"),
              std::string::npos);

    // inspect --memory plans the same workspace for the same target, without a library.
    nlohmann::json r = memory_report(c.fused, c.shape, o);
    EXPECT_EQ(r["workspace_bytes"].get<int64_t>(), ws);
    EXPECT_EQ(r["naive_activation_bytes"], mem["naive_activation_bytes"]);
    EXPECT_EQ(r["weight_bytes_f32"], j["weights"]["bytes"]);
    EXPECT_GT(r["code_bytes"].get<int64_t>(), 10000);
}

TEST(FirmwareCompile, Float16WeightsHalveTheBlob) {
    CustomModel c = custom_model();
    fs::path dir = scratch_dir("custom16");
    CompileOptions o;
    o.target = "x86-64-linux";
    o.name = "c16";
    o.out_dir = dir.string();
    o.weights_f16 = true;  // not firmware: the dtype is independent of it
    std::ostringstream log;
    compile_library(c.model, c.fused, c.shape, o, log);
    auto j = nlohmann::json::parse(read_text(dir / "c16.json"));
    EXPECT_EQ(j["weights"]["dtype"], "float16");
    EXPECT_EQ(j["weights"]["bytes"].get<int64_t>(), 2 * j["weights"]["blob_floats"].get<int64_t>());
    EXPECT_FALSE(j["firmware"].get<bool>());
}

TEST(FirmwareWeights, Float16WideningIsExactForEveryFiniteValue) {
    // Every finite float16 (both signs, zeros, subnormals, 65504) through the blob and back.
    std::vector<float> values;
    for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
        const Halide::float16_t h = Halide::float16_t::make_from_bits(uint16_t(bits));
        if (!h.is_nan() && !h.is_infinity()) values.push_back(float(double(h)));
    }
    codegen::WeightStore ws(false, codegen::WeightsDType::F16);
    codegen::WeightRef ref = ws.add("all", {int(values.size())}, values, "test");
    ws.finalize();
    EXPECT_EQ(ws.blob_bytes(), 2 * ws.blob_floats());
    Halide::Var i;
    Halide::Func read;
    read(i) = ref({i});
    Halide::Buffer<float> out = read.realize({int(values.size())});
    int wrong = 0;
    for (size_t k = 0; k < values.size(); ++k) {
        uint32_t a, b;
        std::memcpy(&a, &values[k], 4);
        std::memcpy(&b, &out(int(k)), 4);
        wrong += a != b;  // bit for bit, -0 included
    }
    EXPECT_EQ(wrong, 0);
    EXPECT_THROW(
        {
            codegen::WeightStore big(false, codegen::WeightsDType::F16);
            big.add("big", {1}, {70000.0f}, "too big for float16");
            big.finalize();
        },
        Error);
}

TEST(FirmwareCompile, RejectsAppleTargetsAndExternalFloat16) {
    CustomModel c = custom_model();
    for (const char *t : {"arm-64-osx", "arm-64-ios"}) {
        fs::path dir = scratch_dir(std::string("apple_") + t);
        CompileOptions o;
        o.target = t;
        o.name = "x";
        o.out_dir = dir.string();
        o.firmware = true;
        std::ostringstream log;
        try {
            compile_library(c.model, c.fused, c.shape, o, log);
            ADD_FAILURE() << t << " accepted";
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find("Apple"), std::string::npos) << e.what();
        }
        EXPECT_FALSE(fs::exists(dir));
    }
    fs::path dir = scratch_dir("ext16");
    CompileOptions o;
    o.name = "x";
    o.out_dir = dir.string();
    o.external_weights = true;
    o.weights_f16 = true;
    std::ostringstream log;
    EXPECT_THROW(compile_library(c.model, c.fused, c.shape, o, log), Error);
    EXPECT_FALSE(fs::exists(dir));
}

TEST(FirmwareObjectSizes, NotAnArchive) {
    fs::path dir = scratch_dir("sizes");
    fs::create_directories(dir);
    std::ofstream(dir / "x.a") << "not an archive";
    EXPECT_FALSE(codegen::static_library_sizes((dir / "x.a").string()).known);
    EXPECT_THROW(codegen::static_library_sizes((dir / "missing.a").string()), Error);
}

// ---- the CLI ------------------------------------------------------------------------------
TEST(FirmwareCli, InspectMemoryJson) {
    auto r = test::run_m1c("inspect --spec " + test::fixture("custom.json") +
                           " --input-size 64x64 --memory --target x86-64-linux --json");
    ASSERT_EQ(r.status, 0) << r.output;
    auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
    const auto &m = j["memory"];
    for (const char *key : {"workspace_bytes", "naive_activation_bytes", "peak_live_bytes",
                            "code_bytes", "weight_bytes_f32", "weight_bytes_f16", "target"})
        EXPECT_TRUE(m.contains(key)) << key;
    EXPECT_LT(m["workspace_bytes"].get<int64_t>(), m["naive_activation_bytes"].get<int64_t>());
    EXPECT_EQ(m["weight_bytes_f16"].get<int64_t>() * 2, m["weight_bytes_f32"].get<int64_t>());
}

TEST(FirmwareCli, Float16NeedsEmbeddedWeights) {
    fs::path dir = scratch_dir("cli_ext16");
    auto r = test::run_m1c("compile --weights " + test::fixture("custom.pth.tar") + " --spec " +
                           test::fixture("custom.json") +
                           " --input-size 64x64 --weights-mode external --weights-dtype f16 --name x --out-dir " +
                           dir.string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("--weights-dtype f16"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir));
}
