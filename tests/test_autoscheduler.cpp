// Halide's autoschedulers as schedules of the whole pipeline (--autoscheduler): each one
// gives the oracle's logits on the custom spec (160x96, batch 2: small, so that even
// Adams2019's search stays in seconds), the names are checked, and compile_library takes
// them in both weights modes. The CLI path, linked from C, runs in tests/codegen.cmake.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "codegen/autoscheduler_plugin.h"
#include "codegen/codegen.h"
#include "codegen/schedule_choice.h"
#include "core/error.h"
#include "frontend/load_model.h"
#include "npy.h"  // runtime/
#include "passes/pipeline.h"
#include "test_helpers.h"

namespace fs = std::filesystem;
using namespace m1c;

namespace {

struct Custom : test::FixtureModel {
    InputShape shape{2, 160, 96};  // the oracle's fixture
};

const Custom &custom() {
    static const Custom c = [] {
        Custom c;
        static_cast<test::FixtureModel &>(c) = test::load_fixture_model("custom.json", "custom.pth.tar", c.shape);
        return c;
    }();
    return c;
}

using test::relative_max_diff;

// The custom spec's logits under `autoscheduler`, against the oracle's.
void expect_matches_oracle(const std::string &autoscheduler) {
    const Custom &c = custom();
    const NpyArray input = read_npy(test::fixture("custom_input.npy"));
    const NpyArray expected = read_npy(test::fixture("custom_logits.npy"));
    HostPipeline p(c.fused, c.shape, /*profile=*/false, codegen::ScheduleChoice{"", autoscheduler});
    EXPECT_EQ(p.schedule_name(), "autoscheduler/" + autoscheduler);
    EXPECT_FALSE(p.schedule_ops().empty());
    for (int threads : {1, 2}) {
        p.set_num_threads(threads);
        const std::vector<float> got = p.run(input.data);
        ASSERT_EQ(got.size(), expected.data.size());
        // The same tolerance as the default schedule's tests (float sums in another order).
        EXPECT_LE(relative_max_diff(got, expected.data), 1e-4) << autoscheduler << ", " << threads << " threads";
    }
}

}  // namespace

TEST(Autoscheduler, Li2018MatchesOracle) { expect_matches_oracle("Li2018"); }
TEST(Autoscheduler, Mullapudi2016MatchesOracle) { expect_matches_oracle("Mullapudi2016"); }
// Greedy search (m1c's default beam for Adams2019, see autoscheduler.cpp).
TEST(Autoscheduler, Adams2019MatchesOracle) { expect_matches_oracle("Adams2019"); }

// The comparison above can fail: a perturbed expectation is caught.
TEST(Autoscheduler, OracleComparisonDetectsAWrongLogit) {
    const Custom &c = custom();
    const NpyArray input = read_npy(test::fixture("custom_input.npy"));
    std::vector<float> expected = read_npy(test::fixture("custom_logits.npy")).data;
    HostPipeline p(c.fused, c.shape, false, codegen::ScheduleChoice{"", "Li2018"});
    double mx = 0;
    for (float v : expected) mx = std::max(mx, double(std::fabs(v)));
    expected[3] += float(5e-4 * mx);
    EXPECT_GT(relative_max_diff(p.run(input.data), expected), 1e-4);
}

TEST(Autoscheduler, NamesAreCaseInsensitiveAndUnknownOnesListTheKnown) {
    EXPECT_EQ(codegen::canonical_autoscheduler_name("adams2019"), "Adams2019");
    EXPECT_EQ(codegen::canonical_autoscheduler_name("LI2018"), "Li2018");
    EXPECT_EQ(codegen::canonical_autoscheduler_name("Mullapudi2016"), "Mullapudi2016");
    const Custom &c = custom();
    for (const char *bad : {"Adams2020", "mullapudi", "../../libfoo", " Li2018"}) {
        try {
            HostPipeline p(c.fused, c.shape, false, codegen::ScheduleChoice{"", bad});
            ADD_FAILURE() << "no error for " << bad;
        } catch (const Error &e) {
            const std::string m = e.what();
            for (const char *name : {"Adams2019", "Li2018", "Mullapudi2016"})
                EXPECT_NE(m.find(name), std::string::npos) << m;
        }
    }
}

TEST(Autoscheduler, ExcludesTunedRecords) {
    const Custom &c = custom();
    EXPECT_THROW(HostPipeline(c.fused, c.shape, false, codegen::ScheduleChoice{"records.json", "Li2018"}),
                 Error);
}

TEST(Autoscheduler, PluginDirectoriesStartWithTheOverride) {
    setenv("M1C_AUTOSCHEDULER_DIR", "/nonexistent/m1c-plugins", 1);
    const auto dirs = codegen::autoscheduler_plugin_dirs();
    unsetenv("M1C_AUTOSCHEDULER_DIR");
    ASSERT_FALSE(dirs.empty());
    EXPECT_EQ(dirs.front(), "/nonexistent/m1c-plugins");
    // The directory of the libHalide in use is searched too (Debian: .../halide14).
    EXPECT_TRUE(std::any_of(dirs.begin(), dirs.end(),
                            [](const std::string &d) { return d.find("halide14") != std::string::npos; }));
}

// compile_library with an autoscheduler: external weights need their own estimates; the
// manifest names the schedule; firmware refuses it.
TEST(Autoscheduler, CompileLibraryBothWeightsModes) {
    const Custom &c = custom();
    for (bool external : {false, true}) {
        const fs::path dir = fs::path(M1C_BUILD_DIR) / "test_scratch" / "autoscheduler" /
                             (external ? "external" : "embedded");
        fs::remove_all(dir);
        CompileOptions o;
        o.target = "host";
        o.name = "custom_mullapudi";
        o.out_dir = dir.string();
        o.external_weights = external;
        o.schedule.autoscheduler = "Mullapudi2016";
        std::ostringstream log;
        ASSERT_NO_THROW(compile_library(c.model, c.fused, c.shape, o, log)) << log.str();
        EXPECT_TRUE(fs::exists(dir / "libcustom_mullapudi.a"));
        const auto j = test::read_json((dir / "custom_mullapudi.json").string());
        EXPECT_EQ(j["schedule"]["name"], "autoscheduler/Mullapudi2016");
        EXPECT_EQ(j["schedule"]["source"], "Halide's Mullapudi2016 autoscheduler (--autoscheduler)");
        EXPECT_NE(log.str().find("autoscheduler Mullapudi2016"), std::string::npos) << log.str();
    }
    CompileOptions o;
    o.target = "host";
    o.name = "custom_fw";
    o.out_dir = (fs::path(M1C_BUILD_DIR) / "test_scratch" / "autoscheduler" / "fw").string();
    o.firmware = true;
    o.schedule.autoscheduler = "Li2018";
    std::ostringstream log;
    EXPECT_THROW(compile_library(c.model, c.fused, c.shape, o, log), Error);
}
