// Autotuning: records files (round trip, bad input), tuned schedules (fallbacks, illegal
// knobs, the default configuration reproducing the default schedule), the search space
// (every default is legal), and correctness of non-default knobs against the oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "codegen/codegen.h"
#include "codegen/lowered.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "frontend/load_model.h"
#include "frontend/random_weights.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"
#include "knobs.h"          // schedules/
#include "npy.h"            // runtime/
#include "passes/pipeline.h"
#include "records.h"        // schedules/
#include "search_space.h"   // schedules/
#include "test_helpers.h"
#include "tune/tune.h"
#include "tuned_schedule.h" // schedules/

namespace m1c {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using schedules::TuningRecord;

fs::path scratch(const std::string &name) { return test::fresh_dir("test_tune", name); }

void write_text(const fs::path &p, const std::string &text) {
    std::ofstream(p) << text;
}

Graph random_graph(const std::string &variant, const InputShape &shape) {
    const Spec spec = *builtin_spec(variant);
    return fold_and_fuse(build_graph(spec, WeightFormat::Fused, random_fused_weights(spec, 5), shape));
}

TuningRecord record_for(const codegen::LoweredPipeline &p, const schedules::TuneUnit &u,
                        const schedules::UnitConfig &c, const std::string &cpu) {
    TuningRecord r;
    r.device = json{{"cpu", cpu}, {"features", json::array()}, {"runner", "local"}};
    r.target = codegen::host_target().to_string();
    r.op = schedules::unit_key(p, u);
    r.config = schedules::config_to_json(u, c);
    r.median_ms = 1.0;
    r.runs = 3;
    r.when = "2026-01-01T00:00:00Z";
    return r;
}

std::string this_cpu() { return schedules::host_device().at("cpu").get<std::string>(); }

// ---- records files -------------------------------------------------------------------
TEST(TuneRecords, RoundTrip) {
    const fs::path dir = scratch("roundtrip");
    TuningRecord r;
    r.device = json{{"cpu", "Some CPU"}, {"features", {"avx2", "fma"}}};
    r.target = "x86-64-linux-avx2-fma";
    r.op = json{{"dense", {{"cin", 3}}}};
    r.config = json{{"dense", {{"cv", 2}}}};
    r.median_ms = 0.125;
    r.runs = 9;
    r.when = "2026-11-25T00:00:00Z";
    schedules::write_records((dir / "r.json").string(), {r, r});
    const auto back = schedules::read_records((dir / "r.json").string());
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[1].device, r.device);
    EXPECT_EQ(back[1].target, r.target);
    EXPECT_EQ(back[1].op, r.op);
    EXPECT_EQ(back[1].config, r.config);
    EXPECT_DOUBLE_EQ(back[1].median_ms, r.median_ms);
    EXPECT_EQ(back[1].runs, r.runs);
    EXPECT_EQ(back[1].when, r.when);
}

void expect_error(const std::string &path, const std::string &needle) {
    try {
        schedules::read_records(path);
        ADD_FAILURE() << path << ": no error (expected \"" << needle << "\")";
    } catch (const Error &e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
}

TEST(TuneRecords, BadFilesNameTheFileAndTheProblem) {
    const fs::path dir = scratch("bad");
    expect_error((dir / "missing.json").string(), "no such file");
    expect_error(dir.string(), "is a directory");
    const std::string good_record =
        R"({"device": {"cpu": "x"}, "target": "x86-64-linux", "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1})";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"not json {", "not valid JSON"},
        {"[1, 2]", "not an m1c tuning records file"},
        {R"({"m1c_tuning_records": 3, "records": []})", "version 3 is not supported"},
        {R"({"m1c_tuning_records": "1", "records": []})", "is not supported"},
        {R"({"m1c_tuning_records": 1, "records": {}})", "\"records\" must be an array"},
        {R"({"m1c_tuning_records": 1, "records": [5]})", "record 0: expected an object"},
        {R"({"m1c_tuning_records": 1, "records": [{"device": {"cpu": "x"}}]})", "missing key \"target\""},
        {R"({"m1c_tuning_records": 1, "records": [)" + good_record + R"(, {"device": {"cpu": "x"}, "target": "x86-64-linux", "op": {"a": 1}, "config": {}, "median_ms": -1, "runs": 1}]})",
         "record 1: \"median_ms\" must be a positive number"},
        {R"({"m1c_tuning_records": 1, "records": [{"device": {"cpu": "x"}, "target": "pdp-11", "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1}]})",
         "not a Halide target string"},
        {R"({"m1c_tuning_records": 1, "records": [{"device": {"cpu": 3}, "target": "x86-64-linux", "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1}]})",
         "string \"cpu\""},
        {R"({"m1c_tuning_records": 1, "records": [{"device": {"cpu": "x"}, "target": "x86-64-linux", "op": {"a": 1}, "config": {}, "median_ms": 1, "runs": 1.5}]})",
         "\"runs\" must be a positive integer"},
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        const fs::path p = dir / ("bad" + std::to_string(i) + ".json");
        write_text(p, cases[i].first);
        expect_error(p.string(), cases[i].second);
    }
    // And through the CLI: exit status 1 and the message.
    const auto r = test::run_m1c("compile --weights " + test::fixture("s0.pth.tar") + " --name x --out-dir " +
                                 (dir / "out").string() + " --schedule " + (dir / "bad2.json").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("version 3 is not supported"), std::string::npos) << r.output;
}

// ---- tuned schedules -----------------------------------------------------------------
struct S0Small {
    Graph fused = random_graph("s0", InputShape{1, 64, 64});
    InputShape shape{1, 64, 64};
};

TEST(TuneSchedule, DefaultConfigsReproduceTheDefaultSchedule) {
    S0Small m;
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(m.fused, m.shape, false);
    const auto cp = schedules::cpu_params_for(t);
    const auto defaults = schedules::default_knobs(p, cp);
    std::vector<TuningRecord> records;
    for (const auto &u : schedules::tune_units(p))
        records.push_back(record_for(p, u, schedules::default_config(defaults, u), this_cpu()));
    const fs::path file = scratch("defaults") / "r.json";
    schedules::write_records(file.string(), records);
    std::ostringstream log;
    const auto tuned = schedules::apply_tuned_schedule(p, t, file.string(), log);
    codegen::LoweredPipeline q = codegen::lower(m.fused, m.shape, false);
    const auto def = schedules::apply_default_schedule(q, t);
    EXPECT_EQ(tuned.ops, def.ops);
    EXPECT_NE(log.str().find(std::to_string(records.size()) + " of " + std::to_string(records.size()) +
                             " ops tuned"), std::string::npos) << log.str();
}

TEST(TuneSchedule, OtherDeviceOrTargetFallsBackToDefaultAndSaysSo) {
    S0Small m;
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(m.fused, m.shape, false);
    const auto cp = schedules::cpu_params_for(t);
    std::mt19937 rng(3);
    std::vector<TuningRecord> records;
    for (const auto &u : schedules::tune_units(p)) {
        records.push_back(record_for(p, u, schedules::random_config(p, u, cp, rng), "Another CPU 9000"));
        TuningRecord arm = record_for(p, u, schedules::random_config(p, u, cp, rng), this_cpu());
        arm.target = "arm-64-linux";
        records.push_back(arm);
    }
    const fs::path file = scratch("other") / "r.json";
    schedules::write_records(file.string(), records);
    std::ostringstream log;
    const auto tuned = schedules::apply_tuned_schedule(p, t, file.string(), log);
    codegen::LoweredPipeline q = codegen::lower(m.fused, m.shape, false);
    EXPECT_EQ(tuned.ops, schedules::apply_default_schedule(q, t).ops);
    EXPECT_NE(log.str().find("no record for this device"), std::string::npos) << log.str();
    EXPECT_EQ(tuned.name.rfind("default/", 0), 0u) << tuned.name;
    EXPECT_NE(log.str().find("fall"), std::string::npos) << log.str();
}

TEST(TuneSchedule, MissingOpsFallBackNamingThem) {
    S0Small m;
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(m.fused, m.shape, false);
    const auto units = schedules::tune_units(p);
    const auto defaults = schedules::default_knobs(p, schedules::cpu_params_for(t));
    const fs::path file = scratch("missing") / "r.json";
    schedules::write_records(file.string(), {record_for(p, units[0], schedules::default_config(defaults, units[0]), this_cpu())});
    std::ostringstream log;
    schedules::apply_tuned_schedule(p, t, file.string(), log);
    EXPECT_NE(log.str().find("1 of " + std::to_string(units.size()) + " ops tuned"), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("default template for: " + schedules::unit_name(p, units[1])), std::string::npos)
        << log.str();
}

TEST(TuneSchedule, ConfirmedRecordsArePreferred) {
    S0Small m;
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(m.fused, m.shape, false);
    const auto cp = schedules::cpu_params_for(t);
    const auto units = schedules::tune_units(p);
    const auto defaults = schedules::default_knobs(p, cp);
    // A faster unconfirmed default, a slower confirmed other configuration: the confirmed one.
    TuningRecord fast = record_for(p, units[1], schedules::default_config(defaults, units[1]), this_cpu());
    fast.median_ms = 0.5;
    schedules::UnitConfig other = schedules::default_config(defaults, units[1]);
    other.dw.ux = other.dw.ux == 2 ? 4 : 2;
    TuningRecord confirmed = record_for(p, units[1], other, this_cpu());
    confirmed.median_ms = 1.0;
    confirmed.confirmed = true;
    const fs::path file = scratch("confirmed") / "r.json";
    schedules::write_records(file.string(), {fast, confirmed});
    EXPECT_TRUE(schedules::read_records(file.string())[1].confirmed);
    std::ostringstream log;
    const auto tuned = schedules::apply_tuned_schedule(p, t, file.string(), log);
    codegen::LoweredPipeline q = codegen::lower(m.fused, m.shape, false);
    const auto def = schedules::apply_default_schedule(q, t);
    EXPECT_NE(tuned.ops, def.ops);
    const std::string want = std::to_string(other.dw.ux) + " pixels unrolled";
    EXPECT_NE(tuned.ops[size_t(units[1].dw)].find(want), std::string::npos) << tuned.ops[size_t(units[1].dw)];
}

TEST(TuneSchedule, IllegalKnobIsRejectedNamingTheRecord) {
    S0Small m;
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(m.fused, m.shape, false);
    const auto units = schedules::tune_units(p);
    const auto defaults = schedules::default_knobs(p, schedules::cpu_params_for(t));
    auto bad_file = [&](const std::string &name, const std::function<void(json &)> &edit) {
        TuningRecord r = record_for(p, units[1], schedules::default_config(defaults, units[1]), this_cpu());
        edit(r.config);
        const fs::path file = scratch(name) / "r.json";
        schedules::write_records(file.string(), {r});
        return file.string();
    };
    const std::vector<std::tuple<std::string, std::function<void(json &)>, std::string>> cases = {
        {"tx", [](json &c) { c["dense"]["tx"] = 99; }, "illegal knob value: tx 99"},
        {"cv", [](json &c) { c["dense"]["cv"] = 5; }, "illegal knob value: cv 5"},
        {"ux", [](json &c) { c["dw"]["ux"] = 3; }, "illegal knob value: dw ux 3"},
        {"type", [](json &c) { c["dense"]["tx"] = "wide"; }, "\"tx\" must be an integer"},
        {"order", [](json &c) { c["dense"]["order"] = "sideways"; }, "\"order\" is \"sideways\""},
        {"nodw", [](json &c) { c.erase("dw"); }, "missing key \"dw\""},
    };
    for (const auto &[name, edit, needle] : cases) {
        const std::string file = bad_file(name, edit);
        codegen::LoweredPipeline q = codegen::lower(m.fused, m.shape, false);
        std::ostringstream log;
        try {
            schedules::apply_tuned_schedule(q, t, file, log);
            ADD_FAILURE() << name << ": no error";
        } catch (const Error &e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(file + ": record 0"), std::string::npos) << msg;
            EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        }
    }
}

TEST(TuneSearchSpace, DefaultsAreLegalAndRandomConfigsToo) {
    for (const char *variant : test::kVariants) {
        Graph g = random_graph(variant, InputShape{1, 224, 224});
        codegen::LoweredPipeline p = codegen::lower(g, InputShape{1, 224, 224}, false);
        for (const char *target : {"x86-64-linux-avx512", "x86-64-linux-avx2-fma", "x86-64-linux", "arm-64-linux"}) {
            const auto cp = schedules::cpu_params_for(Halide::Target(target));
            const auto defaults = schedules::default_knobs(p, cp);
            std::mt19937 rng(11);
            for (const auto &u : schedules::tune_units(p)) {
                const auto d = schedules::default_config(defaults, u);
                EXPECT_EQ(schedules::check_config(p, u, d, cp), "") << variant << " " << target << " "
                                                                  << schedules::describe_unit(p, u);
                for (int i = 0; i < 5; ++i) {
                    const auto r = schedules::random_config(p, u, cp, rng);
                    EXPECT_EQ(schedules::check_config(p, u, r, cp), "");
                    EXPECT_EQ(schedules::check_config(p, u, schedules::mutate_config(p, u, r, cp, rng), cp), "");
                    const auto back = schedules::config_from_json(u, schedules::config_to_json(u, r));
                    EXPECT_EQ(schedules::config_to_json(u, back), schedules::config_to_json(u, r));
                }
            }
        }
    }
}

TEST(TuneDuration, Parses) {
    EXPECT_DOUBLE_EQ(tune::parse_duration("10m"), 600);
    EXPECT_DOUBLE_EQ(tune::parse_duration("90s"), 90);
    EXPECT_DOUBLE_EQ(tune::parse_duration("1h30m"), 5400);
    EXPECT_DOUBLE_EQ(tune::parse_duration("45"), 45);
    for (const char *bad : {"", "abc", "10x", "0", "-5m", "m"}) EXPECT_THROW(tune::parse_duration(bad), Error) << bad;
}

// ---- tuned libraries stay correct ----------------------------------------------------
// The oracle's S0 with random legal knobs on every op (fresh seeds each run would make
// failures unrepeatable: fixed seeds, several of them), JIT-compiled, against PyTorch.
TEST(TuneCorrectness, RandomLegalKnobsOnEveryOpMatchTheOracle) {
    ModelRequest req;
    req.variant = "s0";
    req.weights_path = test::fixture("s0.pth.tar");
    std::ostringstream quiet;
    const LoadedModel model = load_model(req, quiet);
    const InputShape shape{1, 224, 224};
    const Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    const NpyArray input = read_npy(test::fixture("s0_input.npy"));
    const NpyArray expected = read_npy(test::fixture("s0_logits.npy"));
    const Halide::Target t = codegen::host_target();
    codegen::LoweredPipeline p = codegen::lower(fused, shape, false);
    const auto cp = schedules::cpu_params_for(t);
    const auto defaults = schedules::default_knobs(p, cp);
    codegen::LoweredPipeline q = codegen::lower(fused, shape, false);
    const std::vector<std::string> default_ops = schedules::apply_default_schedule(q, t).ops;
    for (unsigned seed : {1u, 2u}) {
        std::mt19937 rng(seed);
        std::vector<TuningRecord> records;
        int changed = 0;
        for (const auto &u : schedules::tune_units(p)) {
            const auto c = schedules::random_config(p, u, cp, rng);
            changed += schedules::config_to_json(u, c) != schedules::config_to_json(u, schedules::default_config(defaults, u));
            records.push_back(record_for(p, u, c, this_cpu()));
        }
        EXPECT_GT(changed, int(records.size()) / 2);
        const fs::path file = scratch("random" + std::to_string(seed)) / "r.json";
        schedules::write_records(file.string(), records);
        HostPipeline host(fused, shape, false, codegen::ScheduleChoice{file.string(), ""});
        EXPECT_EQ(host.schedule_name().rfind("tuned/", 0), 0u) << host.schedule_name();
        // The knobs were applied: the schedule differs from the default's.
        EXPECT_NE(host.schedule_ops(), default_ops);
        const std::vector<float> got = host.run(input.data);
        ASSERT_EQ(got.size(), expected.data.size());
        EXPECT_LE(test::relative_max_diff(got, expected.data), 1e-4) << "seed " << seed;
    }
}

// ---- the CLI: resumable, skips what was measured ---------------------------------------
TEST(TuneCli, ResumesWithoutRemeasuring) {
    const fs::path dir = scratch("cli");
    const std::string out = (dir / "r.json").string();
    const std::string args = "tune --variant s0 --input-size 64x64 --ops stage1 --trials 6 --batch-size 6 "
                             "--runs 3 --no-check --out " + out;
    const auto a = test::run_m1c(args);
    ASSERT_EQ(a.status, 0) << a.output;
    EXPECT_NE(a.output.find("tune: trial 6/6"), std::string::npos) << a.output;
    const size_t first = schedules::read_records(out).size();
    const auto b = test::run_m1c(args);
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_NE(b.output.find("resuming from 6 measurements"), std::string::npos) << b.output;
    const auto records = schedules::read_records(out);
    EXPECT_EQ(records.size(), first + 6);
    std::set<std::string> seen;
    for (const auto &r : records) EXPECT_TRUE(seen.insert(r.op.dump() + r.config.dump()).second) << r.config.dump();
    // No budget, bad budget: usage errors with a message.
    const auto c = test::run_m1c("tune --variant s0 --out " + out);
    EXPECT_EQ(c.status, 1);
    EXPECT_NE(c.output.find("give a budget"), std::string::npos) << c.output;
}

}  // namespace
}  // namespace m1c
