// Tuning on many devices (`m1c tune` with several --runner, --jobs, Slurm) and sharing the
// records (`m1c records merge|show`).
//
// Most runs here measure nothing: tests/tune_farm/replay_runner.py answers every candidate
// with a time made from its label (replay_ms below), so records can be checked exactly,
// and tests/tune_farm/fault_runner.sh wraps it to fail in each way a device can. The Slurm
// test measures for real, through srun on a one-node cluster it starts (root only).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "records.h"        // schedules/
#include "records_tools.h"  // schedules/
#include "test_helpers.h"
#include "tune/harness.h"
#include "tune/runner.h"

namespace m1c {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using schedules::TuningRecord;

fs::path scratch(const std::string &name) { return test::fresh_dir("test_tune_farm", name); }

std::string farm_script(const std::string &name) {
    return std::string(M1C_SOURCE_DIR) + "/tests/tune_farm/" + name;
}

// The replayed time of a candidate (replay_runner.py's replay_ms: FNV-1a of its label).
double replay_ms(const json &op, const json &config) {
    const std::string label = json{{"op", op}, {"config", config}}.dump();
    uint32_t h = 0x811C9DC5u;
    for (unsigned char c : label) h = (h ^ c) * 0x01000193u;
    return 0.05 + (h % 1000) / 1000.0;
}

std::string replay_runner(const std::string &name) {
    return "python3 " + farm_script("replay_runner.py") + " --name " + name;
}

// fault_runner.sh around a replay runner; calls FROM..TO misbehave (call 1: the probe).
std::string fault_runner(const std::string &mode, int from, int to, const fs::path &state) {
    return farm_script("fault_runner.sh") + " " + mode + " " + std::to_string(from) + " " + std::to_string(to) +
           " " + state.string() + " " + replay_runner(mode);
}

// S0 at 64x64, stage1's two op shapes, 4 batches of 3; replayed times take no time.
std::string tune_args(const fs::path &out, const std::vector<std::string> &runners, int jobs = 2) {
    std::string a = "tune --variant s0 --input-size 64x64 --ops stage1 --trials 12 --batch-size 3 --runs 3 "
                    "--no-check --seed 3 --timeout 4s --jobs " + std::to_string(jobs) + " --out " + out.string();
    for (const std::string &r : runners) a += " --runner \"" + r + "\"";
    return a;
}

// The records without their "when" (the only field that may differ between equal runs).
std::vector<json> comparable(const std::string &file) {
    std::vector<json> out;
    for (const TuningRecord &r : schedules::read_records(file))
        out.push_back(json{{"device", r.device}, {"target", r.target}, {"op", r.op}, {"config", r.config},
                           {"median_ms", r.median_ms}, {"runs", r.runs}, {"confirmed", r.confirmed}});
    return out;
}

// Every record is a replayed time of its own candidate, each configuration recorded once:
// no failed run became a time, nothing was measured twice. Returns the configurations
// recorded (baselines not counted).
size_t expect_only_replayed_times(const std::string &file) {
    std::set<std::string> seen;
    for (const TuningRecord &r : schedules::read_records(file)) {
        EXPECT_NEAR(r.median_ms, replay_ms(r.op, r.config), 1e-6) << r.config.dump();
        EXPECT_EQ(r.device.at("cpu"), "Replay CPU");
        EXPECT_TRUE(seen.insert(r.op.dump() + r.config.dump()).second) << "twice: " << r.config.dump();
    }
    size_t configs = 0;
    for (const std::string &s : seen) configs += s.find("\"baseline\"") == std::string::npos;
    return configs;
}

// ---- the measurement binary's output and the runner's process handling -------------------
TEST(TuneHarness, OnlyCompleteReportsAreBelieved) {
    const std::string good = "cpu\tSome CPU\ncand\t0\t0.5\t3\nfail\t1\t-2\nend\t2\n";
    const tune::HarnessOutput h = tune::parse_harness_output("ssh: a banner line\n" + good, 2, 3);
    EXPECT_EQ(h.cpu, "Some CPU");
    EXPECT_TRUE(h.slots[0].ok);
    EXPECT_DOUBLE_EQ(h.slots[0].median_ms, 0.5);
    EXPECT_FALSE(h.slots[1].ok);
    EXPECT_EQ(h.slots[1].error_code, -2);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"cpu\tX\ncand\t0\t0.5\t3\n", "ends early"},                              // cut short
        {"cand\t0\t0.5\t3\ncand\t1\t0.5\t3\nend\t2\n", "no cpu line"},
        {"cpu\tX\ncand\t0\t0.5\t3\ncand\t0\t0.5\t3\nend\t2\n", "slot 0 twice"},
        {"cpu\tX\ncand\t0\tNaN\t3\ncand\t1\t0.5\t3\nend\t2\n", "not a positive time"},
        {"cpu\tX\ncand\t0\t-1\t3\ncand\t1\t0.5\t3\nend\t2\n", "not a positive time"},
        {"cpu\tX\ncand\t0\t0.5\t3 junk\ncand\t1\t0.5\t3\nend\t2\n", "not a positive time"},
        {"cpu\tX\ncand\t0\t0.5\t2\ncand\t1\t0.5\t3\nend\t2\n", "2 runs, not 3"},
        {"cpu\tX\ncand\t7\t0.5\t3\ncand\t1\t0.5\t3\nend\t2\n", "slot 7 of 2"},
        {"cpu\tX\ncand\t0\t0.5\t3\ncand\t1\t0.5\t3\nend\t3\n", "reports 3 candidates"},
        {"cpu\tX\ncand\t0\t0.5\t3\ncand\t1\t0.5\t3\nend\t2\ncand\t1\t0.5\t3\n", "after the end line"},
    };
    for (const auto &[text, needle] : bad) {
        try {
            tune::parse_harness_output(text, 2, 3);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    }
}

// Dead within a second: no such process, or a zombie its new parent has not reaped yet.
bool gone(pid_t pid) {
    for (int i = 0; i < 100; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return true;
        const size_t paren = line.rfind(')');
        if (paren != std::string::npos && line.compare(paren + 2, 1, "Z") == 0) return true;
        ::usleep(10000);
    }
    return false;
}

TEST(TuneRunner, TimeoutKillsEverythingTheCommandStarted) {
    const fs::path dir = scratch("timeout");
    const std::string pid_file = (dir / "child.pid").string();
    const tune::CommandResult r =
        tune::run_shell("sleep 60 & echo $! > " + pid_file + "; echo started; wait", 1.0);
    EXPECT_NE(r.stopped.find("timed out after 1 s"), std::string::npos) << r.stopped;
    EXPECT_EQ(r.out, "started\n");
    pid_t child = 0;
    std::ifstream(pid_file) >> child;
    ASSERT_GT(child, 0);
    EXPECT_TRUE(gone(child)) << "the background sleep survived its runner's timeout";
    // And the exit status of a command killed by a signal.
    EXPECT_EQ(tune::run_shell("kill -KILL $$").status, 128 + 9);
    EXPECT_EQ(tune::run_shell("exit 3").status, 3);
}

// ---- a pool of runners -----------------------------------------------------------------
// The search does not depend on who measures, nor on when results come back: one runner,
// three runners, or three with one that fails, give the same records (with the same --jobs).
TEST(TuneFarm, SameRecordsWhateverTheRunners) {
    const fs::path dir = scratch("same");
    const auto one = test::run_m1c(tune_args(dir / "one.json", {replay_runner("A")}));
    ASSERT_EQ(one.status, 0) << one.output;
    EXPECT_NE(one.output.find("tune: trial 12/12"), std::string::npos) << one.output;
    EXPECT_NE(one.output.find("in flight 1"), std::string::npos) << one.output;  // 2 batches in flight
    EXPECT_EQ(expect_only_replayed_times((dir / "one.json").string()), 12u);
    const auto three = test::run_m1c(
        tune_args(dir / "three.json", {replay_runner("A"), replay_runner("B"), replay_runner("C")}));
    ASSERT_EQ(three.status, 0) << three.output;
    for (const char *name : {"--name A", "--name B"})  // batches went to several runners
        EXPECT_NE(three.output.find(std::string(name) + "\"  in flight"), std::string::npos) << three.output;
    EXPECT_EQ(comparable((dir / "one.json").string()), comparable((dir / "three.json").string()));
    const auto flaky = test::run_m1c(tune_args(
        dir / "flaky.json", {replay_runner("A"), fault_runner("exit", 2, 2, dir / "flaky.state"), replay_runner("C")}));
    ASSERT_EQ(flaky.status, 0) << flaky.output;
    EXPECT_NE(flaky.output.find("failed batch"), std::string::npos) << flaky.output;
    EXPECT_EQ(comparable((dir / "one.json").string()), comparable((dir / "flaky.json").string()));
    // A different --jobs is a different search: the check above can fail.
    const auto deeper = test::run_m1c(tune_args(dir / "deeper.json", {replay_runner("A")}, 4));
    ASSERT_EQ(deeper.status, 0) << deeper.output;
    EXPECT_NE(comparable((dir / "one.json").string()), comparable((dir / "deeper.json").string()));
}

// Each way a device fails: the failed runs never become records, their batches are measured
// by the other runner, the failing runner is dropped, and every trial is recorded.
class TuneFault : public ::testing::TestWithParam<const char *> {};

TEST_P(TuneFault, IsSurvivedWithNothingLost) {
    const std::string mode = GetParam();
    const fs::path dir = scratch(std::string("fault_") + mode);
    const auto r = test::run_m1c(
        tune_args(dir / "r.json", {replay_runner("good"), fault_runner(mode, 2, 0, dir / "state")}) +
        " --max-failures 2");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("fault_runner.sh " + mode), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("failed batch"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("dropped: it failed 2 runs in a row; 1 runner left"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("tune: trial 12/12"), std::string::npos) << r.output;
    EXPECT_EQ(expect_only_replayed_times((dir / "r.json").string()), 12u);
    const std::map<std::string, std::string> why = {
        {"exit", "exited with status 3 ("},
        {"signal", "(signal 9: Killed)"},
        {"hang", "timed out after 4 s"},
        {"garbage", "unreadable measurement output"},
        {"truncate", "measurement output ends early"},
    };
    EXPECT_NE(r.output.find(why.at(mode)), std::string::npos) << r.output;
    if (mode == "exit")  // the runner's standard error is quoted
        EXPECT_NE(r.output.find("`): fault_runner: device busy (injected failure)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("is queued again (attempt 2 of 3)"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Modes, TuneFault, ::testing::Values("exit", "signal", "hang", "garbage", "truncate"));

TEST(TuneFarm, RunnerOnAnotherCpuIsDropped) {
    const fs::path dir = scratch("cpu");
    const auto r = test::run_m1c(
        tune_args(dir / "r.json", {replay_runner("good"), fault_runner("cpu", 1, 0, dir / "state")}));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("dropped: it measures on \"Some Other CPU\""), std::string::npos) << r.output;
    EXPECT_EQ(expect_only_replayed_times((dir / "r.json").string()), 12u);
}

// When the last runner is gone, tuning stops with what it has (exit status 1, the records
// written), and the same --out resumes it.
TEST(TuneFarm, AllRunnersGoneEndsWithWhatItHasAndResumes) {
    const fs::path dir = scratch("gone");
    const std::string out = (dir / "r.json").string();
    // The probe and batches 0 and 1 work, then every run fails.
    const auto a = test::run_m1c(tune_args(out, {fault_runner("exit", 4, 0, dir / "state")}, 1));
    EXPECT_EQ(a.status, 1) << a.output;
    EXPECT_NE(a.output.find("every runner was dropped"), std::string::npos) << a.output;
    EXPECT_NE(a.output.find("run again with the same --out to continue"), std::string::npos) << a.output;
    EXPECT_EQ(expect_only_replayed_times(out), 6u);
    const auto b = test::run_m1c(tune_args(out, {replay_runner("good")}, 1));
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_NE(b.output.find("resuming from 6 measurements"), std::string::npos) << b.output;
    EXPECT_EQ(expect_only_replayed_times(out), 18u);
}

// m1c killed while it tunes (here by its runner, during batch 2): the records file is
// whole, and resuming measures nothing twice.
TEST(TuneFarm, KilledRunLeavesRecordsToResumeFrom) {
    const fs::path dir = scratch("killed");
    const std::string out = (dir / "r.json").string(), state = (dir / "state").string();
    const auto a = test::run_command("sh -c 'echo $$ > " + state + ".pid; exec " + std::string(M1C_BINARY) + " " +
                                     tune_args(out, {fault_runner("kill", 4, 0, state)}, 1) + "'");
    EXPECT_NE(a.status, 0) << a.output;
    EXPECT_EQ(a.output.find("new measurements"), std::string::npos) << a.output;  // it did not finish
    EXPECT_EQ(expect_only_replayed_times(out), 6u);
    const auto b = test::run_m1c(tune_args(out, {replay_runner("good")}, 1));
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_NE(b.output.find("resuming from 6 measurements"), std::string::npos) << b.output;
    EXPECT_EQ(expect_only_replayed_times(out), 18u);
}

// ---- m1c records merge / show --------------------------------------------------------------
TuningRecord small_record(const std::string &cpu, int cin, double ms) {
    TuningRecord r;
    r.device = json{{"cpu", cpu}, {"features", json::array()}, {"runner", "remote"}};
    r.target = "arm-64-linux";
    r.op = json{{"dense", {{"kind", "dense"}, {"cin", cin}, {"cout", 64}, {"kernel", 1}, {"stride", 1},
                           {"out_h", 8}, {"out_w", 8}, {"se", false}}}};
    r.config = json{{"dense", {{"cv", 2}}}};
    r.median_ms = ms;
    r.runs = 9;
    r.when = "2026-12-01T00:00:00Z";
    return r;
}

TEST(TuneRecordsCli, MergeKeepsEveryMeasurementAndShowSummarises) {
    const fs::path dir = scratch("merge");
    const std::string a = (dir / "a.json").string(), b = (dir / "b.json").string(), c = (dir / "c.json").string();
    schedules::write_records(a, {small_record("board A", 32, 0.5), small_record("board A", 48, 0.7)});
    TuningRecord confirmed = small_record("board A", 32, 0.6);
    confirmed.confirmed = true;
    schedules::write_records(b, {small_record("board A", 32, 0.5), small_record("board A", 32, 0.4), confirmed,
                                 small_record("board B", 32, 0.3)});
    const auto m = test::run_m1c("records merge " + a + " " + b + " --out " + c);
    ASSERT_EQ(m.status, 0) << m.output;
    EXPECT_NE(m.output.find("5 records (1 identical to another record, kept once)"), std::string::npos) << m.output;
    const auto merged = schedules::read_records(c);
    ASSERT_EQ(merged.size(), 5u);
    EXPECT_DOUBLE_EQ(merged[2].median_ms, 0.4);
    const auto s = test::run_m1c("records show " + c);
    ASSERT_EQ(s.status, 0) << s.output;
    EXPECT_NE(s.output.find("5 records, 2 device/target/threads groups"), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("device \"board A\" (remote), target arm-64-linux, 1 thread: 4 records (0 baselines, 1 confirmed), 2 ops"),
              std::string::npos) << s.output;
    // The op of cin 32 on board A: the confirmed record (0.6 ms) over the faster 0.4 ms.
    EXPECT_NE(s.output.find("pw 32->64 8x8"), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("0.6  {\"dense\":{\"cv\":2}} (confirmed)"), std::string::npos) << s.output;
}

TEST(TuneRecordsCli, BadFilesAreRefusedAsScheduleRefusesThem) {
    const fs::path dir = scratch("merge_bad");
    const std::string good = (dir / "good.json").string(), bad = (dir / "bad.json").string();
    schedules::write_records(good, {small_record("board A", 32, 0.5)});
    std::ofstream(bad) << R"({"m1c_tuning_records": 3, "records": []})";
    for (const std::string &cmd : {"records merge " + good + " " + bad + " --out " + (dir / "c.json").string(),
                                   "records show " + bad}) {
        const auto r = test::run_m1c(cmd);
        EXPECT_EQ(r.status, 1) << r.output;
        EXPECT_NE(r.output.find(bad + ": records version 3 is not supported (expected 1 to 2)"), std::string::npos)
            << r.output;
    }
    EXPECT_FALSE(fs::exists(dir / "c.json"));
    const auto missing = test::run_m1c("records show " + (dir / "nope.json").string());
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.output.find("nope.json: no such file"), std::string::npos) << missing.output;
    EXPECT_EQ(test::run_m1c("records").status, 2);  // a subcommand is required
}

// ---- Slurm -------------------------------------------------------------------------------
// A one-node Slurm cluster on this machine (tests/tune_farm/slurm_cluster.sh), S0 tuned at
// 64x64 through srun with two batches in flight, then a library compiled from the records
// against PyTorch.
class SlurmCluster {
public:
    explicit SlurmCluster(const fs::path &dir) : dir_(dir) {
        const auto r = test::run_command("sh " + farm_script("slurm_cluster.sh") + " start " + dir.string());
        started_ = r.status == 0;
        log_ = r.output;
    }
    ~SlurmCluster() { test::run_command("sh " + farm_script("slurm_cluster.sh") + " stop " + dir_.string()); }
    bool started() const { return started_; }
    const std::string &log() const { return log_; }
    std::string conf() const { return (dir_ / "slurm.conf").string(); }

private:
    fs::path dir_;
    bool started_ = false;
    std::string log_;
};

TEST(TuneSlurm, TunesS0ThroughSrunAndTheLibraryMatchesPyTorch) {
    if (::geteuid() != 0) GTEST_SKIP() << "the Slurm test starts slurmctld, slurmd and munged: it needs root";
    const fs::path dir = scratch("slurm");
    SlurmCluster cluster(dir / "cluster");
    ASSERT_TRUE(cluster.started()) << cluster.log();
    const std::string out = (dir / "s0.json").string();
    const std::string env = "SLURM_CONF=" + cluster.conf() + " ";
    const auto t = test::run_command(
        env + M1C_BINARY + " tune --variant s0 --input-size 64x64 --trials 32 --batch-size 16 --runs 3 "
        "--jobs 2 --slots 2 --runner 'srun --nodes=1 --ntasks=1 --exclusive {bin}' --work-dir " + dir.string() +
        " --out " + out);
    ASSERT_EQ(t.status, 0) << t.output;
    EXPECT_NE(t.output.find("on \"srun --nodes=1 --ntasks=1 --exclusive {bin}\"  in flight"), std::string::npos)
        << t.output;
    EXPECT_NE(t.output.find("tune: whole model: default"), std::string::npos) << t.output;
    // The records: this machine's CPU (srun ran the binaries here), every op measured.
    const auto records = schedules::read_records(out);
    std::set<std::string> ops;
    for (const TuningRecord &r : records) {
        EXPECT_EQ(r.device.at("cpu"), schedules::host_device().at("cpu"));
        EXPECT_GT(r.median_ms, 0);
        ops.insert(r.op.dump());
    }
    EXPECT_GE(records.size(), 32u);
    // A library from them, at 64x64, against the oracle's logits at 64x64.
    const auto c = test::run_m1c("compile --weights " + test::fixture("s0.pth.tar") +
                                 " --variant s0 --input-size 64x64 --schedule " + out + " --name slurm_s0 --out-dir " +
                                 (dir / "lib").string());
    ASSERT_EQ(c.status, 0) << c.output;
    EXPECT_NE(c.output.find("22 of 22 ops tuned"), std::string::npos) << c.output;
    const std::string in = (dir / "in.npy").string(), logits = (dir / "logits.npy").string();
    const auto o = test::run_command("/usr/bin/python3 " + farm_script("oracle_logits.py") + " " +
                                     test::fixture("s0.pth.tar") + " s0 64x64 " + in + " " + logits);
    ASSERT_EQ(o.status, 0) << o.output;
    const std::string c_dir = std::string(M1C_SOURCE_DIR) + "/tests/c", lib = (dir / "lib").string();
    const auto l = test::run_command("cc -std=c99 -O2 -D_POSIX_C_SOURCE=200112L '-DM1C_HEADER=\"slurm_s0.h\"' "
                                     "-DM1C_NAME=slurm_s0 -I" + c_dir + " -I" + lib + " " + c_dir + "/run_model.c " +
                                     lib + "/libslurm_s0.a -lpthread -ldl -lm -o " + (dir / "run_model").string());
    ASSERT_EQ(l.status, 0) << l.output;
    const auto run = test::run_command((dir / "run_model").string() + " " + in + " " + logits);
    EXPECT_EQ(run.status, 0) << run.output;
}

}  // namespace
}  // namespace m1c
