// `--target host` only uses what the CPU reports: restrict_to_cpu on the feature sets of real
// CPUs, host_target() on this machine, and a host library disassembled for instructions this
// CPU lacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "codegen/cpu_features.h"
#include "codegen/isa_check.h"
#include "codegen/target_list.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "test_helpers.h"

using m1c::codegen::CpuFeatures;
using m1c::codegen::restrict_to_cpu;
using T = Halide::Target;

namespace {

// What Halide 14's get_host_target() says on a Zen 4 (it takes it for Sapphire Rapids).
const char *kHalideOnZen4 =
    "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41";

CpuFeatures nehalem() {
    CpuFeatures c;
    c.sse41 = true;
    return c;
}
CpuFeatures haswell() {
    CpuFeatures c = nehalem();
    c.avx = c.avx2 = c.fma = c.f16c = c.os_avx = true;
    return c;
}
CpuFeatures zen4() {
    CpuFeatures c = haswell();
    c.avx512f = c.avx512cd = c.avx512vl = c.avx512bw = c.avx512dq = true;
    c.avx512ifma = c.avx512vbmi = c.avx512_vnni = c.avx512_bf16 = true;
    c.os_avx512 = true;  // no AVX512-FP16, no AVX-VNNI
    return c;
}
CpuFeatures sapphire_rapids() {
    CpuFeatures c = zen4();
    c.avx512_fp16 = c.avx_vnni = true;
    return c;
}

}  // namespace

TEST(HostTarget, Zen4IsNotTakenForSapphireRapids) {
    std::vector<std::string> dropped;
    const T t = restrict_to_cpu(T(kHalideOnZen4), zen4(), &dropped);
    EXPECT_FALSE(t.has_feature(T::AVX512_SapphireRapids)) << t.to_string();
    EXPECT_TRUE(t.has_feature(T::AVX512_Cannonlake)) << t.to_string();
    EXPECT_TRUE(t.has_feature(T::AVX512_Skylake)) << t.to_string();
    EXPECT_EQ(dropped, (std::vector<std::string>{"avx512_sapphirerapids"}));
    // A real Sapphire Rapids keeps it.
    EXPECT_TRUE(restrict_to_cpu(T(kHalideOnZen4), sapphire_rapids()).has_feature(T::AVX512_SapphireRapids));
}

TEST(HostTarget, HaswellAndNehalemKeepOnlyWhatTheyHave) {
    const T h = restrict_to_cpu(T(kHalideOnZen4), haswell());
    EXPECT_EQ(h, T("x86-64-linux-avx-avx2-f16c-fma-sse41")) << h.to_string();
    const T n = restrict_to_cpu(T(kHalideOnZen4), nehalem());
    EXPECT_EQ(n, T("x86-64-linux-sse41")) << n.to_string();
}

TEST(HostTarget, NoAvx512WhenTheOsDoesNotSaveItsRegisters) {
    CpuFeatures c = zen4();
    c.os_avx512 = false;  // e.g. a VM or a kernel with AVX-512 state off
    const T t = restrict_to_cpu(T(kHalideOnZen4), c);
    EXPECT_EQ(t, T("x86-64-linux-avx-avx2-f16c-fma-sse41")) << t.to_string();
    c.os_avx = false;
    EXPECT_EQ(restrict_to_cpu(T(kHalideOnZen4), c), T("x86-64-linux-sse41"));
}

TEST(HostTarget, Arm64FeaturesNeedTheirHwcaps) {
    CpuFeatures c;  // an ARMv8.0 core
    std::vector<std::string> dropped;
    const T t = restrict_to_cpu(T("arm-64-linux-arm_dot_prod-arm_fp16"), c, &dropped);
    EXPECT_EQ(t, T("arm-64-linux")) << t.to_string();
    EXPECT_EQ(dropped.size(), 2u);
    c.arm_dot_prod = c.arm_fp16 = true;
    EXPECT_EQ(restrict_to_cpu(T("arm-64-linux-arm_dot_prod-arm_fp16"), c), T("arm-64-linux-arm_dot_prod-arm_fp16"));
}

TEST(HostTarget, OnThisMachineHostHasNothingTheCpuLacks) {
    const CpuFeatures cpu = m1c::codegen::this_cpu_features();
    const T host = m1c::codegen::host_target();
    std::vector<std::string> dropped;
    EXPECT_EQ(restrict_to_cpu(host, cpu, &dropped), host);
    EXPECT_TRUE(dropped.empty());
    if (cpu.avx512_bf16 && !cpu.avx512_fp16)  // Zen 4: what Halide 14 gets wrong
        EXPECT_FALSE(host.has_feature(T::AVX512_SapphireRapids)) << host.to_string();
    std::cout << "host: " << host.to_string() << " (Halide says " << Halide::get_host_target().to_string() << ")\n";
}

TEST(HostTarget, HostLibraryHoldsNoInstructionThisCpuLacks) {
    const auto dir = m1c::test::fresh_dir("test_targets", "host_library");
    const auto r = m1c::test::run_m1c("compile --spec " + m1c::test::fixture("custom.json") + " --weights " +
                                      m1c::test::fixture("custom.pth.tar") +
                                      " --input-size 64x64 --target host --name host_lib --out-dir " + dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string lib = (dir / "libhost_lib.a").string();
    const auto report = m1c::codegen::scan_static_library(lib, m1c::codegen::host_target());
    ASSERT_TRUE(report.scanned);
    EXPECT_GT(report.instructions, 1000);
    const auto lacking = m1c::codegen::instructions_this_cpu_lacks(report);
    EXPECT_TRUE(lacking.empty()) << lacking.front();
    const auto manifest = m1c::test::read_json((dir / "host_lib.json").string());
    EXPECT_EQ(manifest["target"].get<std::string>(), m1c::codegen::host_target().with_feature(T::UserContext).to_string());
}

TEST(HostTarget, ScanFindsRegistersTheCpuMightLack) {
    // An AVX-512 library: the scan sees zmm registers, which a CPU without AVX-512 lacks.
    const auto dir = m1c::test::fresh_dir("test_targets", "avx512_library");
    const auto r = m1c::test::run_m1c("compile --spec " + m1c::test::fixture("custom.json") + " --weights " +
                                      m1c::test::fixture("custom.pth.tar") +
                                      " --input-size 64x64 --target x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41"
                                      " --name avx512_lib --out-dir " + dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    const auto report = m1c::codegen::scan_static_library((dir / "libavx512_lib.a").string(),
                                                          T("x86-64-linux-avx512_skylake"));
    EXPECT_GT(report.counts.count("zmm registers (AVX-512)"), 0u);
    const CpuFeatures cpu = m1c::codegen::this_cpu_features();
    const auto lacking = m1c::codegen::instructions_this_cpu_lacks(report);
    const bool flagged = std::any_of(lacking.begin(), lacking.end(),
                                     [](const std::string &s) { return s.rfind("zmm registers", 0) == 0; });
    EXPECT_EQ(flagged, !(cpu.avx512f && cpu.os_avx512));
}

TEST(TargetList, PresetsAndListsParseAndBadListsAreRefused) {
    using m1c::codegen::parse_target_list;
    const auto all = parse_target_list("x86-64-all", false);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_TRUE(all[0].has_feature(T::AVX512_Skylake));
    EXPECT_TRUE(all[1].has_feature(T::AVX2) && !all[1].has_feature(T::AVX512));
    EXPECT_EQ(all[2], T("x86-64-linux-sse41"));
    EXPECT_EQ(parse_target_list("arm64-all", false).size(), 2u);
    EXPECT_EQ(parse_target_list("x86-64-linux-avx2-fma", false).size(), 1u);
    struct Case {
        std::string text, expected;
    };
    const Case bad[] = {
        {"x86-64-linux-avx2-fma,arm-64-linux", "another architecture or OS"},
        {"x86-64-linux-avx2-fma,x86-64-osx", "another architecture or OS"},
        {"host,x86-64-linux", "\"host\" cannot be part of a list"},
        {"x86-64-linux,x86-64-linux", "appears twice"},
        {"x86-64-linux-avx2,", "an empty entry"},
        {"x86-64-linux,nonsense", "unknown target \"nonsense\""},
    };
    for (const Case &c : bad) {
        try {
            parse_target_list(c.text, false);
            ADD_FAILURE() << c.text << " was accepted";
        } catch (const m1c::Error &e) {
            EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << c.text << ": " << e.what();
        }
    }
}

TEST(TargetList, CliRefusesBadLists) {
    const auto dir = m1c::test::fresh_dir("test_targets", "cli_lists");
    const std::string model = "compile --spec " + m1c::test::fixture("custom.json") + " --weights " +
                              m1c::test::fixture("custom.pth.tar") + " --input-size 64x64 --name x --out-dir " +
                              dir.string();
    auto r = m1c::test::run_m1c(model + " --target x86-64-linux,arm-64-linux");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("another architecture or OS"), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "libx.a"));
}

// Firmware and int8 together with a preset: every target planned (the workspace is the
// largest), each lowered to int8 on its own, one calibration. (Run: tests/dispatch.cmake.)
TEST(TargetList, FirmwareInt8ListGetsAWorkspacePerTarget) {
    const auto dir = m1c::test::fresh_dir("test_targets", "fw_int8_list");
    const auto r = m1c::test::run_m1c("compile --spec " + m1c::test::fixture("custom.json") + " --weights " +
                                      m1c::test::fixture("custom.pth.tar") +
                                      " --input-size 64x64 --target x86-64-all --firmware --precision int8"
                                      " --calibration random:2 --name x --out-dir " + dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    const auto manifest = m1c::test::read_json((dir / "x.json").string());
    ASSERT_EQ(manifest["targets"].size(), 3u);
    const auto &per_target = manifest["memory"]["per_target"];
    ASSERT_EQ(per_target.size(), 3u);
    int64_t largest = 0;
    for (const auto &t : per_target) largest = std::max(largest, t["workspace_bytes"].get<int64_t>());
    EXPECT_EQ(manifest["memory"]["workspace_bytes"].get<int64_t>(), largest);
    EXPECT_NE(per_target[2]["target"].get<std::string>().find("x86-64-noos-sse41"), std::string::npos);
    EXPECT_EQ(manifest["precision"]["precision"].get<std::string>(), "int8");
    std::ifstream in(dir / "x.h");
    std::stringstream text;
    text << in.rdbuf();
    const std::string header = text.str();
    EXPECT_NE(header.find("#define x_WORKSPACE_BYTES " + std::to_string(largest) + "u"), std::string::npos);
    EXPECT_NE(header.find("x_m1c_select_plan"), std::string::npos);
    EXPECT_NE(header.find("#define x_TARGET_COUNT 3"), std::string::npos);
}
