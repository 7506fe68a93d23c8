// m1c bench: latency of the pipeline `m1c compile` emits, JIT-compiled for this machine
// (same lowering, same schedule), against the machine's FMA peak measured in the same run.
// Without --weights: random weights of the right shapes for --variant/--spec (labelled).
// --per-layer: Halide's sampling profiler (Target::Profile) on a second, profiled build of
// the pipeline; time per fused op (a depthwise conv computed inside its consumer's tiles is
// its own Func, so it is reported on its own line).
// --features (and --output-stride): a backbone build, timed through run_features.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/feature_options.h"
#include "cli/fma_peak.h"
#include "cli/model_options.h"
#include "cli/precision_options.h"
#include "cli/schedule_options.h"
#include "frontend/random_weights.h"
#include "codegen/codegen.h"
#include "codegen/cpu_features.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "ir/graph_stats.h"
#include "passes/pipeline.h"

namespace m1c::cli {
namespace {

struct BenchOptions {
    ModelOptions model;
    std::string target = "host";
    int threads = 1, runs = 50, warmup = 5;
    bool per_layer = false, json = false;
    codegen::ScheduleChoice schedule;
    PrecisionOptions precision;
    FeatureOptions features;
};

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0;
    const double pos = p / 100.0 * double(v.size() - 1);
    const size_t i = size_t(pos);
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

std::string fmt(const char *f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string op_kind(const Op &op) {
    if (op.is<LinearAttrs>()) return "pool+linear";
    const Conv2dAttrs &a = op.as<Conv2dAttrs>();
    std::string k = a.groups > 1 ? "dw" : (a.kernel == 1 ? "pw" : "conv");
    k += std::to_string(a.kernel) + "x" + std::to_string(a.kernel);
    if (a.stride > 1) k += "/" + std::to_string(a.stride);
    if (a.dilation > 1) k += "@d" + std::to_string(a.dilation);  // --output-stride
    if (a.se) k += "+se";
    return k;
}

std::string strip_unique_suffix(const std::string &name) {
    return name.substr(0, name.find('$'));
}

struct Layer {
    std::string name, kind;
    int64_t macs = 0;
    double ms = 0;  // per run
    std::vector<std::pair<std::string, double>> funcs;  // Func name, ms per run
};

// Where a run writes: logits, or (a backbone build) every feature map, NCHW, one after the other.
struct Outputs {
    std::vector<float> data;
    std::vector<float *> features;
    Outputs(const HostPipeline &pl, const InputShape &shape) {
        std::vector<size_t> offsets;
        for (const auto &[name, d] : pl.feature_shapes()) {
            offsets.push_back(data.size());
            data.resize(data.size() + size_t(d[0]) * d[1] * d[2] * d[3]);
        }
        if (offsets.empty()) data.resize(size_t(shape.batch) * pl.num_classes());
        for (size_t off : offsets) features.push_back(data.data() + off);
    }
    void run(HostPipeline &pl, const float *input) {
        if (features.empty())
            pl.run(input, data.data());
        else
            pl.run_features(input, features.data());
    }
};

// "host": a default Target (HostPipeline takes the host's). Otherwise a target this CPU runs
// whole, e.g. x86-64-linux-avx-avx2-f16c-fma-sse41 on an AVX-512 machine (the AVX2 code).
Halide::Target bench_target(const std::string &text) {
    if (text == "host") return Halide::Target();
    const Halide::Target t = codegen::parse_target(text), host = codegen::host_target();
    std::vector<std::string> dropped;
    codegen::restrict_to_cpu(t, codegen::this_cpu_features(), &dropped);
    if (t.arch != host.arch || t.bits != host.bits || t.os != host.os || !dropped.empty())
        throw Error("--target " + text + ": bench runs the pipeline on this machine (" +
                    host.to_string() + "); give host or a target this CPU runs");
    return t;
}

void run(const BenchOptions &o) {
    const Halide::Target target = bench_target(o.target);
    codegen::ScheduleChoice schedule = o.schedule;  // records measured with --threads preferred
    schedule.threads = o.threads;
    if (o.threads < 1 || o.threads > 1024)
        throw Error("--threads " + std::to_string(o.threads) + ": expected 1 to 1024");
    if (o.runs < 1 || o.runs > 1000000) throw Error("--runs: expected at least 1");
    if (o.warmup < 0) throw Error("--warmup: expected 0 or more");
    const InputShape shape = o.model.input_shape();

    LoadedModel model;
    std::string weights_label;
    if (o.model.weights.empty()) {
        if (o.model.variant.empty() && o.model.spec.empty())
            throw Error("give --weights, or --variant/--spec to bench with random weights");
        model.spec = o.model.spec_only();
        model.spec_origin = o.model.variant.empty() ? "spec file " + o.model.spec
                                                    : "built-in variant " + o.model.variant;
        model.format = WeightFormat::Fused;
        model.weights = random_fused_weights(model.spec);
        weights_label = "RANDOM weights (no --weights; timing only)";
    } else {
        model = load_model(o.model.request(), std::cerr);
        weights_label = model.weights_path;
    }
    Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    apply_features(o.features, model, fused);  // classifiers: require_head
    const nlohmann::json precision = apply_precision(o.precision, model, shape, o.features, fused, std::cerr);
    const int64_t macs = graph_stats(fused).macs;

    const auto t0 = std::chrono::steady_clock::now();
    HostPipeline pipeline(fused, shape, /*profile=*/false, schedule, target);
    const double jit_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    pipeline.set_num_threads(o.threads);

    std::vector<float> input(size_t(shape.batch) * 3 * shape.height * shape.width);
    {
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> d(-2.0f, 2.0f);
        for (float &v : input) v = d(rng);
    }
    Outputs out(pipeline, shape);
    auto run_once = [&](HostPipeline &pl) { out.run(pl, input.data()); };
    auto timed_run = [&] {
        const auto a = std::chrono::steady_clock::now();
        run_once(pipeline);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    };
    for (int i = 0; i < o.warmup; ++i) timed_run();
    std::vector<double> times;
    for (int i = 0; i < o.runs; ++i) times.push_back(timed_run());
    for (float v : out.data)
        if (!std::isfinite(v)) throw Error("the pipeline produced non-finite outputs");

    const double median = percentile(times, 50), p90 = percentile(times, 90),
                 best = *std::min_element(times.begin(), times.end());
    const double gflops = 2.0 * double(macs) / (median * 1e-3) * 1e-9;

    // The peak, measured now (same load as the runs), on 1 and on --threads threads.
    std::vector<FmaPeak> peaks{measure_fma_peak(1)};
    if (o.threads > 1) peaks.push_back(measure_fma_peak(o.threads));
    const FmaPeak &peak = peaks.back();

    std::vector<Layer> layers;
    int profiled_runs = 0;
    double profiled_total_ms = 0;
    if (o.per_layer) {
        HostPipeline prof(fused, shape, /*profile=*/true, schedule, target);
        prof.set_num_threads(o.threads);
        for (int i = 0; i < std::max(o.warmup, 1); ++i) run_once(prof);
        prof.reset_profile();
        // The profiler samples every millisecond: at least ~2 s of samples.
        const int runs = std::max(o.runs, int(std::ceil(2000.0 / std::max(median, 0.1))));
        for (int i = 0; i < runs; ++i) run_once(prof);
        const auto funcs = prof.profile(&profiled_runs);
        const int nruns = std::max(profiled_runs, 1);
        std::map<std::string, size_t> by_prefix;
        for (size_t i = 0; i < fused.ops.size(); ++i) {
            Layer L;
            L.name = fused.ops[i].name;
            L.kind = op_kind(fused.ops[i]);
            L.macs = op_stats(fused, fused.ops[i]).macs;
            layers.push_back(L);
        }
        Layer other;
        other.name = "(other)";
        other.kind = "-";
        const auto &op_funcs = prof.op_funcs();
        for (const auto &f : funcs) {
            const double ms = f.seconds * 1e3 / nruns;
            profiled_total_ms += ms;
            // The op whose Func-name prefix is the longest match (names without the "$N"
            // Halide appends to make them unique in the process).
            const std::string fn = strip_unique_suffix(f.func);
            size_t best_op = layers.size(), best_len = 0;
            for (size_t i = 0; i < op_funcs.size() && i < layers.size(); ++i) {
                const std::string p = strip_unique_suffix(op_funcs[i].second);
                if ((fn == p || fn.compare(0, p.size() + 1, p + "_") == 0) && p.size() > best_len) {
                    best_op = i;
                    best_len = p.size();
                }
            }
            Layer &L = best_op < layers.size() ? layers[best_op] : other;
            L.ms += ms;
            if (ms > 0) L.funcs.emplace_back(fn, ms);
        }
        if (other.ms > 0) layers.push_back(other);
    }

    if (o.json) {
        nlohmann::json j;
        j["model"] = model.spec.name;
        j["spec_origin"] = model.spec_origin;
        j["weights"] = o.model.weights.empty() ? "random" : model.weights_path;
        j["input"] = {shape.batch, 3, shape.height, shape.width};
        j["target"] = pipeline.target();
        j["schedule"] = pipeline.schedule_name();
        j["precision"] = precision;
        j["threads"] = o.threads;
        j["runs"] = o.runs;
        j["warmup"] = o.warmup;
        j["jit_seconds"] = jit_s;
        j["latency_ms"] = {{"median", median}, {"p90", p90}, {"min", best}};
        j["times_ms"] = times;
        j["macs"] = macs;
        j["gflops"] = gflops;
        nlohmann::json pk = nlohmann::json::object();
        for (const auto &p : peaks)
            pk[std::to_string(p.threads)] = {{"gflops", p.gflops}, {"isa", p.isa},
                                             {"lanes", p.lanes}, {"accumulators", p.accumulators}};
        j["fma_peak"] = pk;
        j["percent_of_peak"] = 100.0 * gflops / peak.gflops;
        if (o.per_layer) {
            nlohmann::json ls = nlohmann::json::array();
            for (const Layer &L : layers) {
                nlohmann::json fs = nlohmann::json::object();
                for (const auto &f : L.funcs) fs[f.first] = f.second;
                ls.push_back({{"name", L.name}, {"kind", L.kind}, {"macs", L.macs}, {"ms", L.ms},
                              {"gflops", L.ms > 0 ? 2.0 * double(L.macs) / (L.ms * 1e6) : 0.0},
                              {"funcs", fs}});
            }
            j["per_layer"] = {{"method", "Halide sampling profiler (Target::Profile), 1 ms samples"},
                              {"runs", profiled_runs}, {"total_ms", profiled_total_ms},
                              {"layers", ls}};
        }
        std::cout << j.dump(2) << "\n";
        return;
    }

    std::cout << "model: MobileOne " << model.spec.name << " (" << model.spec_origin << "), "
              << weights_label << "\n";
    std::cout << "input: " << shape.batch << "x3x" << shape.height << "x" << shape.width
              << ", " << o.precision.precision << ", target " << pipeline.target()
              << ", schedule " << pipeline.schedule_name()
              << " (JIT " << fmt("%.1f", jit_s) << " s)\n";
    std::cout << "threads " << o.threads << ", " << o.runs << " runs after " << o.warmup
              << " warm-up\n";
    std::cout << "latency: median " << fmt("%.3f", median) << " ms, p90 " << fmt("%.3f", p90)
              << " ms, min " << fmt("%.3f", best) << " ms\n";
    std::cout << "work: " << macs << " MACs -> " << fmt("%.1f", gflops) << " GFLOP/s at the median\n";
    for (const auto &p : peaks)
        std::cout << "FMA peak (" << p.isa << ", " << p.lanes << " lanes, " << p.accumulators
                  << " accumulators): " << p.threads << " thread" << (p.threads > 1 ? "s " : " ")
                  << fmt("%.1f", p.gflops) << " GFLOP/s\n";
    std::cout << "percent of peak (" << peak.threads << " thread" << (peak.threads > 1 ? "s" : "")
              << "): " << fmt("%.1f", 100.0 * gflops / peak.gflops) << "%\n";
    if (o.per_layer) {
        std::cout << "\nper layer: Halide's sampling profiler (Target::Profile, 1 ms samples), "
                  << profiled_runs << " runs of a profiled build; " << fmt("%.3f", profiled_total_ms)
                  << " ms per run in total\n";
        std::printf("%-24s %-12s %14s %9s %6s %9s\n", "op", "kind", "MACs", "ms/run", "%", "GFLOP/s");
        for (const Layer &L : layers) {
            std::printf("%-24s %-12s %14lld %9.3f %6.1f %9.1f\n", L.name.c_str(), L.kind.c_str(),
                        (long long)L.macs, L.ms,
                        profiled_total_ms > 0 ? 100.0 * L.ms / profiled_total_ms : 0.0,
                        L.ms > 0 ? 2.0 * double(L.macs) / (L.ms * 1e6) : 0.0);
            if (L.funcs.size() > 1)
                for (const auto &f : L.funcs)
                    std::printf("  %-36s %9.3f\n", f.first.c_str(), f.second);
        }
    }
}

void setup(CLI::App &app) {
    auto o = std::make_shared<BenchOptions>();
    CLI::App *cmd = app.add_subcommand(
        "bench", "time the compiled pipeline on this machine (JIT, same code as compile) against "
                 "the measured FMA peak");
    add_model_options(cmd, o->model, /*weights_required=*/false);
    add_input_shape_options(cmd, o->model);
    cmd->add_option("--target,-t", o->target, "host, or a target this CPU runs (e.g. x86-64-linux-avx-avx2-f16c-fma-sse41)")
        ->capture_default_str();
    cmd->add_option("--threads", o->threads, "worker threads (>= 1)")->capture_default_str();
    cmd->add_option("--runs", o->runs, "timed runs")->capture_default_str();
    cmd->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
    cmd->add_flag("--per-layer", o->per_layer,
                  "time per fused op with Halide's sampling profiler (a second, profiled build)");
    cmd->add_flag("--json", o->json, "print a JSON report");
    add_schedule_options(cmd, o->schedule);
    add_precision_options(cmd, o->precision);
    add_feature_options(cmd, o->features);
    o->precision.default_calibration = "random:8";
    cmd->callback([o] { run(*o); });
}

CommandRegistration registration(50, setup);

}  // namespace
}  // namespace m1c::cli
