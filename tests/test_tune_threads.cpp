// Tuning records keyed by thread count: the "threads" field (version 2), version-1 files
// read as 1 thread, --schedule preferring the build's count, a resumed tune ignoring the
// measurements of another count; and the AVX2 default knobs (depthwise at root where the
// tuner found it faster) next to the unchanged AVX-512 ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "codegen/lowered.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "frontend/random_weights.h"
#include "frontend/spec.h"
#include "knobs.h"          // schedules/
#include "passes/pipeline.h"
#include "records.h"        // schedules/
#include "search_space.h"   // schedules/
#include "test_helpers.h"
#include "tune/record_book.h"
#include "tuned_schedule.h" // schedules/

namespace m1c {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using schedules::TuningRecord;

fs::path scratch(const std::string &name) { return test::fresh_dir("test_tune_threads", name); }

Graph random_graph(const std::string &variant, const InputShape &shape) {
    const Spec spec = *builtin_spec(variant);
    return fold_and_fuse(build_graph(spec, WeightFormat::Fused, random_fused_weights(spec, 5), shape));
}

std::string this_cpu() { return schedules::host_device().at("cpu").get<std::string>(); }

TuningRecord record_for(const codegen::LoweredPipeline &p, const schedules::TuneUnit &u,
                        const schedules::UnitConfig &c, int threads, double ms) {
    TuningRecord r;
    r.device = json{{"cpu", this_cpu()}, {"features", json::array()}, {"runner", "local"}};
    r.target = codegen::host_target().to_string();
    r.threads = threads;
    r.op = schedules::unit_key(p, u);
    r.config = schedules::config_to_json(u, c);
    r.median_ms = ms;
    r.runs = 3;
    r.when = "2026-01-01T00:00:00Z";
    return r;
}

TEST(TuneThreads, RecordsCarryTheirThreadCountAndVersion1FilesReadAsOne) {
    const fs::path dir = scratch("roundtrip");
    TuningRecord r;
    r.device = json{{"cpu", "Some CPU"}};
    r.target = "x86-64-linux-avx2-fma";
    r.threads = 2;
    r.op = json{{"dense", {{"cin", 3}}}};
    r.config = json{{"dense", {{"cv", 2}}}};
    r.median_ms = 0.125;
    r.runs = 9;
    schedules::write_records((dir / "v2.json").string(), {r});
    std::ifstream in(dir / "v2.json");
    const json written = json::parse(in);
    EXPECT_EQ(written.at("m1c_tuning_records"), 2);
    EXPECT_EQ(written.at("records")[0].at("threads"), 2);
    EXPECT_EQ(schedules::read_records((dir / "v2.json").string())[0].threads, 2);

    // Version 1 (before thread counts): every record was measured with 1 thread.
    std::ofstream(dir / "v1.json") << R"({"m1c_tuning_records": 1, "records": [{"device": {"cpu": "x"},
        "target": "x86-64-linux", "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1}]})";
    const auto v1 = schedules::read_records((dir / "v1.json").string());
    ASSERT_EQ(v1.size(), 1u);
    EXPECT_EQ(v1[0].threads, 1);
    // The repository's version-1 files stay readable.
    for (const char *f : {"amd-epyc-avx512.json", "amd-epyc-avx2-s1.json"})
        EXPECT_NO_THROW(schedules::read_records(std::string(M1C_SOURCE_DIR) + "/schedules/tuned/" + f)) << f;

    std::ofstream(dir / "bad.json") << R"({"m1c_tuning_records": 2, "records": [{"device": {"cpu": "x"},
        "target": "x86-64-linux", "threads": -1, "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1}]})";
    try {
        schedules::read_records((dir / "bad.json").string());
        ADD_FAILURE() << "threads -1 accepted";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("record 0: \"threads\" must be an integer"), std::string::npos)
            << e.what();
    }
}

// Unit 1 of S0 at 64x64 with two records: the default configuration measured with 1 thread
// (faster, confirmed) and another one measured with 2 threads.
struct TwoCounts {
    Graph fused = random_graph("s0", InputShape{1, 64, 64});
    InputShape shape{1, 64, 64};
    Halide::Target t = codegen::host_target();
    std::string file;
    std::string other_ux;

    TwoCounts() {
        codegen::LoweredPipeline p = codegen::lower(fused, shape, false);
        const auto units = schedules::tune_units(p);
        const auto defaults = schedules::default_knobs(p, schedules::cpu_params_for(t));
        TuningRecord one = record_for(p, units[1], schedules::default_config(defaults, units[1]), 1, 0.5);
        one.confirmed = true;
        schedules::UnitConfig other = schedules::default_config(defaults, units[1]);
        other.dw.ux = other.dw.ux == 2 ? 8 : 2;
        other_ux = std::to_string(other.dw.ux) + " pixels unrolled";
        const TuningRecord two = record_for(p, units[1], other, 2, 1.0);
        file = (scratch("counts") / "r.json").string();
        schedules::write_records(file, {one, two});
    }
    // The schedule line of unit 1's depthwise op for a build of `threads`, and the log.
    std::pair<std::string, std::string> schedule(int threads) const {
        codegen::LoweredPipeline p = codegen::lower(fused, shape, false);
        std::ostringstream log;
        const auto report = schedules::apply_tuned_schedule(p, t, file, log, threads);
        return {report.ops[size_t(schedules::tune_units(p)[1].dw)], log.str()};
    }
};

TEST(TuneThreads, SchedulePrefersRecordsOfTheBuildsThreadCount) {
    const TwoCounts c;
    const auto [one, log1] = c.schedule(1);
    EXPECT_EQ(one.find(c.other_ux), std::string::npos) << one;  // the 1-thread record: the default
    EXPECT_NE(log1.find("ops tuned (for 1 thread)"), std::string::npos) << log1;
    const auto [two, log2] = c.schedule(2);
    EXPECT_NE(two.find(c.other_ux), std::string::npos) << two;  // slower, but measured with 2
    EXPECT_EQ(log2.find("another thread count"), std::string::npos) << log2;
    // No record of 3 threads: the nearest count (2), and the log says so.
    const auto [three, log3] = c.schedule(3);
    EXPECT_NE(three.find(c.other_ux), std::string::npos) << three;
    EXPECT_NE(log3.find("no record measured with 3 threads for 1 ops; records of another thread count for: "),
              std::string::npos) << log3;
    EXPECT_NE(log3.find("(2 threads)"), std::string::npos) << log3;
}

TEST(TuneThreads, ResumedTuneUsesOnlyMeasurementsOfItsThreadCount) {
    const fs::path file = scratch("book") / "r.json";
    const Halide::Target t = codegen::host_target();
    tune::RecordBook two(file.string(), schedules::host_device(), t, 2);
    TuningRecord r;
    r.device = schedules::host_device();
    r.target = t.to_string();
    r.threads = 1;
    EXPECT_FALSE(two.mine(r));
    r.threads = 2;
    EXPECT_TRUE(two.mine(r));
    two.add(0, json{{"a", 1}}, json{{"b", 2}}, tune::Measurement{true, 0.25, 5, ""});
    two.write();
    EXPECT_EQ(schedules::read_records(file.string()).at(0).threads, 2);
}

TEST(TuneThreads, Avx2DefaultsComputeSmallDepthwiseAtRootAndAvx512KeepsItsDefaults) {
    const Graph g = random_graph("s1", InputShape{1, 224, 224});
    const codegen::LoweredPipeline p = codegen::lower(g, InputShape{1, 224, 224}, false);
    const auto avx2 = schedules::default_knobs(p, schedules::cpu_params_for(Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41")));
    const auto avx512 = schedules::default_knobs(p, schedules::cpu_params_for(Halide::Target("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41")));
    int root = 0, inside = 0;
    for (size_t i = 0; i + 1 < p.convs.size(); ++i) {
        const auto &L = p.convs[i];
        if (L.kind != codegen::ConvKind::Depthwise) continue;
        const bool small = L.out_w <= 14 || (L.out_w <= 28 && L.stride == 1);
        EXPECT_EQ(avx2[i].dw.inside, !small) << L.name;
        EXPECT_EQ(avx512[i].dw.inside, L.out_h >= 14) << L.name;  // 7x7: its consumer is not by rows
        (small ? root : inside) += 1;
        // Moved to root from inside its consumer: no pixel unroll. (7x7: at root already,
        // its consumer is parallel over channel tiles; its knobs stay.)
        if (small && L.out_h >= 14) EXPECT_EQ(avx2[i].dw.ux, 1) << L.name;
    }
    EXPECT_GT(root, 0);
    EXPECT_GT(inside, 0);
    EXPECT_FALSE(avx2[0].dense.rows);   // the stem: channel tiles x rows in parallel
    EXPECT_TRUE(avx512[0].dense.rows);
    // Firmware (single-threaded) AVX2 keeps every depthwise op inside its consumer.
    auto cp = schedules::cpu_params_for(Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41"));
    cp.single_threaded = true;
    const auto fw = schedules::default_knobs(p, cp);
    for (size_t i = 0; i + 1 < p.convs.size(); ++i)
        if (p.convs[i].kind == codegen::ConvKind::Depthwise) EXPECT_TRUE(fw[i].dw.inside) << p.convs[i].name;
}

}  // namespace
}  // namespace m1c
