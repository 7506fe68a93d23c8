// Code generation: run_on_host on a small hand-built graph against a naive reference, target
// parsing, and compile_library's files for every supported target (tiny graph: fast).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codegen/codegen.h"
#include "codegen/sha256.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "frontend/spec.h"
#include "schedule.h"   // schedules/
#include "templates.h"  // schedules/
#include "test_helpers.h"

namespace fs = std::filesystem;
using namespace m1c;

namespace {

// ---- a small graph with every op kind, odd sizes, channel counts off the vector width ----
struct Builder {
    Graph g;
    std::mt19937 rng{1234};
    int current = -1;

    Tensor random(Shape s, float scale) {
        std::normal_distribution<float> d(0.0f, scale);
        Tensor t = Tensor::zeros(s);
        for (float &v : t.data) v = d(rng);
        return t;
    }
    void input(int n, int c, int h, int w) {
        g.input = current = g.add_value(Value{"input", n, c, h, w});
    }
    void conv(const std::string &name, int cout, int k, int s, bool depthwise, int se_channels) {
        const Value in = g.values[current];
        Conv2dAttrs a;
        a.kernel = k;
        a.stride = s;
        a.pad = k / 2;
        a.groups = depthwise ? in.c : 1;
        if (depthwise) cout = in.c;
        const int cin_g = depthwise ? 1 : in.c;
        a.weight = random({cout, cin_g, k, k}, std::sqrt(2.0f / float(cin_g * k * k)));
        a.bias = random({cout}, 0.1f);
        if (se_channels > 0) {
            SqueezeExciteAttrs se;
            se.reduce_weight = random({se_channels, cout, 1, 1}, 1.0f / std::sqrt(float(cout)));
            se.reduce_bias = random({se_channels}, 0.1f);
            se.expand_weight = random({cout, se_channels, 1, 1}, 1.0f / std::sqrt(float(se_channels)));
            se.expand_bias = random({cout}, 0.1f);
            a.se = se;
        }
        a.relu = true;
        const int h = (in.h + 2 * a.pad - k) / s + 1, w = (in.w + 2 * a.pad - k) / s + 1;
        int out = g.add_value(Value{name, in.n, cout, h, w});
        g.ops.push_back(Op{name, {current}, out, a});
        current = out;
    }
    void head(int classes) {
        const Value in = g.values[current];
        LinearAttrs l;
        l.weight = random({classes, in.c}, 1.0f / std::sqrt(float(in.c)));
        l.bias = random({classes}, 0.1f);
        l.pooled_input = true;
        int out = g.add_value(Value{"logits", in.n, classes, 1, 1});
        g.ops.push_back(Op{"linear", {current}, out, l});
        g.output = current = out;
    }
};

// Batch 2, 3x20x12 input: stem, depthwise + SE, pointwise, strided depthwise, pointwise + SE,
// head with 5 classes.
Graph tiny_graph(int batch = 2, int h = 20, int w = 12) {
    Builder b;
    b.input(batch, 3, h, w);
    b.conv("stage0", 8, 3, 2, false, 0);
    b.conv("stage1.0", 8, 3, 1, true, 2);
    b.conv("stage1.1", 12, 1, 1, false, 0);
    b.conv("stage2.0", 12, 3, 2, true, 0);
    b.conv("stage2.1", 19, 1, 1, false, 3);
    b.head(5);
    return b.g;
}

// Naive NCHW reference in double precision.
std::vector<float> reference(const Graph &g, const std::vector<float> &input) {
    Value v = g.values[g.input];
    std::vector<double> x(input.begin(), input.end());
    for (const Op &op : g.ops) {
        const Value o = g.values[op.output];
        if (op.is<LinearAttrs>()) {
            const LinearAttrs &l = op.as<LinearAttrs>();
            std::vector<float> out(size_t(v.n) * o.c);
            for (int n = 0; n < v.n; ++n)
                for (int k = 0; k < o.c; ++k) {
                    double acc = l.bias.data[k];
                    for (int c = 0; c < v.c; ++c) {
                        double mean = 0;
                        for (int i = 0; i < v.h * v.w; ++i) mean += x[(size_t(n) * v.c + c) * v.h * v.w + i];
                        acc += l.weight.data[size_t(k) * v.c + c] * mean / (v.h * v.w);
                    }
                    out[size_t(n) * o.c + k] = float(acc);
                }
            return out;
        }
        const Conv2dAttrs &a = op.as<Conv2dAttrs>();
        const int cin_g = v.c / a.groups, cout_g = o.c / a.groups, k = a.kernel;
        std::vector<double> y(size_t(o.n) * o.c * o.h * o.w);
        for (int n = 0; n < o.n; ++n)
            for (int co = 0; co < o.c; ++co)
                for (int oy = 0; oy < o.h; ++oy)
                    for (int ox = 0; ox < o.w; ++ox) {
                        double acc = a.bias->data[co];
                        const int g0 = (co / cout_g) * cin_g;
                        for (int ci = 0; ci < cin_g; ++ci)
                            for (int ky = 0; ky < k; ++ky)
                                for (int kx = 0; kx < k; ++kx) {
                                    int iy = oy * a.stride + ky - a.pad, ix = ox * a.stride + kx - a.pad;
                                    if (iy < 0 || iy >= v.h || ix < 0 || ix >= v.w) continue;
                                    acc += double(a.weight.data[((size_t(co) * cin_g + ci) * k + ky) * k + kx]) *
                                           x[((size_t(n) * v.c + g0 + ci) * v.h + iy) * v.w + ix];
                                }
                        y[((size_t(n) * o.c + co) * o.h + oy) * o.w + ox] = acc;
                    }
        if (a.se) {
            const SqueezeExciteAttrs &se = *a.se;
            const int R = int(se.reduce_bias.numel()), HW = o.h * o.w;
            for (int n = 0; n < o.n; ++n) {
                std::vector<double> mean(o.c, 0.0), r(R), s(o.c);
                for (int c = 0; c < o.c; ++c) {
                    for (int i = 0; i < HW; ++i) mean[c] += y[(size_t(n) * o.c + c) * HW + i];
                    mean[c] /= HW;
                }
                for (int j = 0; j < R; ++j) {
                    double acc = se.reduce_bias.data[j];
                    for (int c = 0; c < o.c; ++c) acc += se.reduce_weight.data[size_t(j) * o.c + c] * mean[c];
                    r[j] = std::max(acc, 0.0);
                }
                for (int c = 0; c < o.c; ++c) {
                    double acc = se.expand_bias.data[c];
                    for (int j = 0; j < R; ++j) acc += se.expand_weight.data[size_t(c) * R + j] * r[j];
                    s[c] = 1.0 / (1.0 + std::exp(-acc));
                }
                for (int c = 0; c < o.c; ++c)
                    for (int i = 0; i < HW; ++i) y[(size_t(n) * o.c + c) * HW + i] *= s[c];
            }
        }
        if (a.relu)
            for (double &e : y) e = std::max(e, 0.0);
        x = std::move(y);
        v = o;
    }
    return {};
}

std::vector<float> random_input(size_t count, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> in(count);
    for (float &e : in) e = d(rng);
    return in;
}

using test::relative_max_diff;

fs::path scratch_dir(const std::string &name) {
    fs::path d = fs::path(M1C_BUILD_DIR) / "test_scratch" / "codegen" / name;
    fs::remove_all(d);
    fs::create_directories(d.parent_path());
    return d;
}

LoadedModel tiny_model(const fs::path &dir) {
    fs::create_directories(dir);
    LoadedModel m;
    m.spec.name = "tiny";
    m.spec.num_classes = 5;
    m.spec_origin = "hand-built test graph";
    m.weights_path = (dir / "tiny.weights_source").string();
    std::ofstream(m.weights_path) << "not a checkpoint, only hashed\n";
    m.format = WeightFormat::Fused;
    return m;
}

std::string read_bytes(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

// ---------------------------------------------------------------------------------------
TEST(CodegenRunOnHost, MatchesNaiveReference) {
    Graph g = tiny_graph();
    InputShape shape{2, 20, 12};
    std::vector<float> in = random_input(2 * 3 * 20 * 12, 7);
    std::vector<float> ref = reference(g, in);
    std::vector<float> got = run_on_host(g, shape, in);
    ASSERT_EQ(got.size(), ref.size());
    double mx = 0;
    for (float r : ref) mx = std::max(mx, double(std::fabs(r)));
    EXPECT_GT(mx, 0.1) << "reference logits are degenerate";
    EXPECT_LE(relative_max_diff(got, ref), 1e-4);
    // The two images of the batch are different, and so are their logits.
    EXPECT_NE(std::vector<float>(got.begin(), got.begin() + 5), std::vector<float>(got.begin() + 5, got.end()));
}

TEST(CodegenRunOnHost, SquareInputBatchOne) {
    Graph g = tiny_graph(1, 32, 32);
    std::vector<float> in = random_input(3 * 32 * 32, 8);
    EXPECT_LE(relative_max_diff(run_on_host(g, InputShape{1, 32, 32}, in), reference(g, in)), 1e-4);
}

TEST(CodegenRunOnHost, TinySpatialSizes) {
    // Down to 1x1 activations: tiles wider than the rows, single-row parallel loops.
    for (auto hw : {std::pair<int, int>{4, 4}, {2, 6}, {1, 1}, {6, 3}}) {
        Graph g = tiny_graph(3, hw.first, hw.second);
        std::vector<float> in = random_input(size_t(3) * 3 * hw.first * hw.second, 10);
        EXPECT_LE(relative_max_diff(run_on_host(g, InputShape{3, hw.first, hw.second}, in), reference(g, in)),
                  1e-4)
            << hw.first << "x" << hw.second;
    }
}

TEST(CodegenRunOnHost, ThreadCountDoesNotChangeResults) {
    Graph g = tiny_graph();
    std::vector<float> in = random_input(2 * 3 * 20 * 12, 9);
    EXPECT_EQ(run_on_host(g, InputShape{2, 20, 12}, in, 1), run_on_host(g, InputShape{2, 20, 12}, in, 2));
}

TEST(CodegenRunOnHost, RejectsWrongInputSizeAndShape) {
    Graph g = tiny_graph();
    EXPECT_THROW(run_on_host(g, InputShape{2, 20, 12}, std::vector<float>(10)), Error);
    // A shape the graph was not built for.
    EXPECT_THROW(run_on_host(g, InputShape{1, 20, 12}, std::vector<float>(3 * 20 * 12)), Error);
}

// ---------------------------------------------------------------------------------------
TEST(CodegenTargets, AcceptsSupportedTargets) {
    for (const char *t : {"host", "x86-64-linux", "x86-64-linux-avx2-fma", "x86-64-linux-avx512",
                          "arm-64-linux", "arm-64-android", "arm-64-osx", "arm-64-ios"})
        EXPECT_NO_THROW(codegen::parse_target(t)) << t;
}

TEST(CodegenTargets, RejectsUnknownAndUnsupportedTargets) {
    for (const char *t : {"bogus-target", "", "x86-64-linux-nonsense", "x86-32-linux", "arm-32-android",
                          "x86-64-windows", "x86-64-linux-cuda", "wasm-32-wasmrt"}) {
        try {
            codegen::parse_target(t);
            ADD_FAILURE() << "accepted " << t;
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + t + "\""), std::string::npos)
                << "message does not name the target: " << e.what();
        }
    }
}

TEST(CodegenSha256, KnownVectors) {
    Sha256 a;
    EXPECT_EQ(hex(a.digest()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 b;
    b.update("abc", 3);
    EXPECT_EQ(hex(b.digest()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 c;  // 1,000,000 x 'a', fed unevenly
    std::string chunk(777, 'a');
    size_t left = 1000000;
    while (left) {
        size_t n = std::min(left, chunk.size());
        c.update(chunk.data(), n);
        left -= n;
    }
    EXPECT_EQ(hex(c.digest()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// ---------------------------------------------------------------------------------------
// Archive member = the object Halide wrote: its format must match the target.
void expect_object_for(const std::string &archive, const std::string &target) {
    ASSERT_EQ(archive.compare(0, 8, "!<arch>\n"), 0) << target << ": not an ar archive";
    const std::string elf = "\x7f" "ELF", macho64 = "\xcf\xfa\xed\xfe";
    size_t e = archive.find(elf), m = archive.find(macho64);
    if (target.find("osx") != std::string::npos || target.find("ios") != std::string::npos) {
        ASSERT_NE(m, std::string::npos) << target << ": no Mach-O object";
        uint32_t cputype;
        std::memcpy(&cputype, archive.data() + m + 4, 4);
        EXPECT_EQ(cputype, 0x0100000Cu) << target << ": not arm64";  // CPU_TYPE_ARM64
    } else {
        ASSERT_NE(e, std::string::npos) << target << ": no ELF object";
        uint16_t machine;
        std::memcpy(&machine, archive.data() + e + 18, 2);
        EXPECT_EQ(machine, target.rfind("arm", 0) == 0 ? 183 : 62) << target;  // EM_AARCH64 / EM_X86_64
    }
}

TEST(CodegenCompileLibrary, WritesLibraryHeaderManifestForEveryTarget) {
    Graph g = tiny_graph();
    for (const char *t : {"x86-64-linux", "x86-64-linux-avx2-fma", "x86-64-linux-avx512", "arm-64-linux",
                          "arm-64-android", "arm-64-osx", "arm-64-ios"}) {
        fs::path dir = scratch_dir(std::string("targets_") + t);
        LoadedModel model = tiny_model(dir.parent_path() / "model");
        CompileOptions o;
        o.target = t;
        o.name = "tiny";
        o.out_dir = dir.string();
        std::ostringstream log;
        compile_library(model, g, InputShape{2, 20, 12}, o, log);
        EXPECT_NE(log.str().find("lowering 6 ops"), std::string::npos) << log.str();
        EXPECT_NE(log.str().find(std::string("compiling for ") + t), std::string::npos) << log.str();
        std::vector<std::string> names;
        for (auto &e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{"libtiny.a", "tiny.h", "tiny.json"})) << t;
        expect_object_for(read_bytes(dir / "libtiny.a"), t);

        auto j = nlohmann::json::parse(read_bytes(dir / "tiny.json"));
        EXPECT_EQ(j["name"], "tiny");
        EXPECT_EQ(j["target_requested"], t);
        EXPECT_EQ(j["input"]["shape"], (std::vector<int>{2, 3, 20, 12}));
        EXPECT_EQ(j["output"]["shape"], (std::vector<int>{2, 5}));
        EXPECT_EQ(j["weights"]["mode"], "embedded");
        EXPECT_EQ(j["weights"]["checkpoint_sha256"], sha256_file(model.weights_path));
        EXPECT_EQ(j["schedule"]["ops"].size(), 6u);
        EXPECT_GT(j["sizes"]["library_bytes"].get<int64_t>(), j["weights"]["bytes"].get<int64_t>());

        std::string h = read_bytes(dir / "tiny.h");
        for (const char *s : {"static inline int tiny_run(const float *input, float *logits)",
                              "static inline void tiny_set_num_threads(int n)", "#define tiny_INPUT_N 2",
                              "#define tiny_INPUT_C 3", "#define tiny_INPUT_H 20", "#define tiny_INPUT_W 12",
                              "#define tiny_NUM_CLASSES 5", "int tiny_halide(void *user_context"})
            EXPECT_NE(h.find(s), std::string::npos) << "tiny.h lacks: " << s;
        EXPECT_EQ(h.find("#include <Halide"), std::string::npos);
    }
}

TEST(CodegenCompileLibrary, ExternalWeightsFile) {
    Graph g = tiny_graph();
    fs::path dir = scratch_dir("external");
    LoadedModel model = tiny_model(dir.parent_path() / "model_ext");
    CompileOptions o;
    o.target = "host";
    o.name = "tiny_ext";
    o.out_dir = dir.string();
    o.external_weights = true;
    std::ostringstream log;
    compile_library(model, g, InputShape{2, 20, 12}, o, log);
    auto j = nlohmann::json::parse(read_bytes(dir / "tiny_ext.json"));
    std::string blob = read_bytes(dir / "tiny_ext.weights");
    EXPECT_EQ(blob.compare(0, 8, "M1CWGT01"), 0);
    const int64_t floats = j["weights"]["payload_floats"];
    EXPECT_EQ(int64_t(blob.size()), 64 + 4 * floats);
    EXPECT_EQ(j["weights"]["file_bytes"].get<int64_t>(), int64_t(blob.size()));
    Sha256 s;
    s.update(blob.data() + 64, blob.size() - 64);
    auto d = s.digest();
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(d.data()), 32), blob.substr(24, 32));
    EXPECT_EQ(j["weights"]["payload_sha256"], hex(d));
    // Every tensor of the graph is in the table, inside the payload.
    int64_t total = 0;
    for (auto &t : j["weights"]["tensors"]) {
        int64_t n = 1;
        for (int e : t["extents_innermost_first"]) n *= e;
        EXPECT_LE(t["offset_floats"].get<int64_t>() + n, floats);
        total += n;
    }
    EXPECT_EQ(total, j["weights"]["floats"].get<int64_t>());
    std::string h = read_bytes(dir / "tiny_ext.h");
    EXPECT_NE(h.find("static inline int tiny_ext_init(const void *blob, size_t bytes)"), std::string::npos);
}

TEST(CodegenCompileLibrary, BadOptionsLeaveNothing) {
    Graph g = tiny_graph();
    LoadedModel model = tiny_model(scratch_dir("bad_model"));
    struct Case {
        std::string target, name, schedule, expect;
    };
    for (const Case &c : {Case{"bogus", "tiny", "", "bogus"}, Case{"host", "9lives", "", "9lives"},
                          Case{"host", "has-dash", "", "has-dash"}, Case{"host", "int", "", "int"},
                          Case{"host", "tiny", "tuned.json", "schedule"}}) {
        fs::path dir = scratch_dir("bad_" + c.name);
        CompileOptions o;
        o.target = c.target;
        o.name = c.name;
        o.out_dir = dir.string();
        o.schedule.records_file = c.schedule;
        std::ostringstream log;
        try {
            compile_library(model, g, InputShape{2, 20, 12}, o, log);
            ADD_FAILURE() << "accepted target " << c.target << " name " << c.name;
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
        }
        EXPECT_FALSE(fs::exists(dir)) << dir;
    }
}

TEST(CodegenCompileLibrary, ExistingDirectoryKeepsOtherFilesAndNoTemporaries) {
    Graph g = tiny_graph();
    fs::path dir = scratch_dir("existing");
    fs::create_directories(dir);
    std::ofstream(dir / "other.txt") << "keep me";
    LoadedModel model = tiny_model(dir.parent_path() / "model_existing");
    CompileOptions o;
    o.target = "host";
    o.name = "tiny";
    o.out_dir = dir.string();
    std::ostringstream log;
    compile_library(model, g, InputShape{2, 20, 12}, o, log);
    compile_library(model, g, InputShape{2, 20, 12}, o, log);  // overwrite in place
    std::vector<std::string> names;
    for (auto &e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"libtiny.a", "other.txt", "tiny.h", "tiny.json"}));
}

// ---------------------------------------------------------------------------------------
TEST(CodegenCli, UnknownTargetFailsNamingItAndWritesNothing) {
    fs::path dir = scratch_dir("cli_bad_target");
    auto r = test::run_m1c("compile --weights " + test::fixture("s0.pth.tar") +
                           " --variant s0 --target x86-64-bogus --name s0 --out-dir " + dir.string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("x86-64-bogus"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir));
}

TEST(CodegenCli, BadNameFailsAndWritesNothing) {
    fs::path dir = scratch_dir("cli_bad_name");
    auto r = test::run_m1c("compile --weights " + test::fixture("custom.pth.tar") + " --spec " +
                           test::fixture("custom.json") +
                           " --input-size 64x64 --name not-an-identifier --out-dir " + dir.string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("not-an-identifier"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir));
}

TEST(CodegenCli, CompilesCustomSpecWithProgressLines) {
    fs::path dir = scratch_dir("cli_custom");
    auto r = test::run_m1c("compile --weights " + test::fixture("custom.pth.tar") + " --spec " +
                           test::fixture("custom.json") +
                           " --input-size 64x96 --batch 3 --target x86-64-linux-avx2-fma --name cust --out-dir " +
                           dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("lowering"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("compiling for x86-64-linux-avx2-fma"), std::string::npos) << r.output;
    auto j = nlohmann::json::parse(read_bytes(dir / "cust.json"));
    EXPECT_EQ(j["variant"], "custom");
    EXPECT_EQ(j["input"]["shape"], (std::vector<int>{3, 3, 64, 96}));
    EXPECT_EQ(j["output"]["shape"], (std::vector<int>{3, 10}));
    EXPECT_EQ(j["weights"]["checkpoint_sha256"], sha256_file(test::fixture("custom.pth.tar")));
    EXPECT_EQ(j["schedule"]["name"], "default/x86-avx2");
}

// ---------------------------------------------------------------------------------------
TEST(CodegenSchedules, ConvTilesFitTheRegisterFileAndTheChannels) {
    for (const char *t : {"x86-64-linux", "x86-64-linux-avx2-fma", "x86-64-linux-avx512", "arm-64-linux"}) {
        const schedules::CpuParams cp = schedules::cpu_params_for(Halide::Target(t));
        for (int channels : {1, 3, 5, 8, 12, 19, 48, 96, 192, 1000, 2048})
            for (int width : {1, 2, 7, 14, 56, 112}) {
                schedules::ConvTile tile = schedules::choose_conv_tile(channels, width, cp);
                SCOPED_TRACE(std::string(t) + " C=" + std::to_string(channels) + " W=" + std::to_string(width));
                EXPECT_LE(tile.tc, channels);
                EXPECT_LE(tile.tx, width);
                EXPECT_EQ(tile.tc % tile.vec, 0);
                EXPECT_LE(tile.vec, cp.vector_floats);
                const int cv = tile.tc / tile.vec;
                EXPECT_LE(cv * tile.tx + cv + cp.broadcast_registers, cp.vector_registers);
            }
    }
}
