// m1c eval: the accuracy of a model over labelled data on the host, at float32 and (with
// --precision int8) at int8 side by side: top-1, top-5, argmax agreement, and the SQNR of
// every fused op's output at int8 against float32, so that the layer that breaks is named.
// Both run the pipelines `m1c compile` emits (same lowering and schedule), JIT-compiled.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/model_options.h"
#include "cli/precision_options.h"
#include "codegen/codegen.h"
#include "codegen/probe_pipeline.h"
#include "core/error.h"
#include "passes/pipeline.h"
#include "quant/samples.h"

namespace m1c::cli {
namespace {

struct EvalOptions {
    ModelOptions model;
    std::string data, labels;
    int threads = 0, layer_samples = 100, limit = 0;
    bool json = false;
    PrecisionOptions precision;
};

struct Scores {
    int64_t top1 = 0, top5 = 0, n = 0;
    std::vector<int> predictions;
    void add(const float *logits, int classes, int label) {
        std::vector<int> order(static_cast<size_t>(classes));
        std::iota(order.begin(), order.end(), 0);
        const int k = std::min(5, classes);
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        predictions.push_back(order[0]);
        top1 += order[0] == label;
        top5 += std::find(order.begin(), order.begin() + k, label) != order.begin() + k;
        ++n;
    }
    double top1_rate() const { return n ? double(top1) / double(n) : 0; }
    double top5_rate() const { return n ? double(top5) / double(n) : 0; }
};

// Signal and noise energies of one probed tensor over the samples seen.
struct Sqnr {
    std::string name;
    double signal = 0, noise = 0;
    double db() const { return noise > 0 ? 10.0 * std::log10(signal / noise) : INFINITY; }
};

std::string pct(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%6.2f%%", 100.0 * v);
    return b;
}

void run(const EvalOptions &o) {
    if (o.threads < 0) throw Error("--threads: expected 0 (all cores) or more");
    if (o.layer_samples < 0) throw Error("--layer-samples: expected 0 or more");
    if (o.limit < 0) throw Error("--limit: expected 0 (all) or more");
    InputShape shape = o.model.input_shape();
    if (shape.batch != 1) throw Error("--batch: eval runs one sample at a time; leave it at 1");
    LoadedModel model = load_model(o.model.request(), std::cerr);
    require_head(model);
    const int classes = model.spec.num_classes;
    quant::SampleSet data = quant::load_samples(o.data, shape.height, shape.width, std::cerr);
    if (!o.labels.empty()) {
        if (!data.labels.empty()) throw Error("--labels: " + o.data + " is a folder of class folders, labelled already");
        data.labels = quant::read_labels(o.labels, data.size(), classes);
    }
    if (data.labels.empty())
        throw Error(o.data + ": no labels: give --labels Y.npy, or a folder with one sub-folder per class");
    for (int label : data.labels)
        if (label >= classes)
            throw Error(o.data + ": label " + std::to_string(label) + " but the model has " +
                        std::to_string(classes) + " classes");
    const int64_t count = o.limit > 0 ? std::min<int64_t>(o.limit, data.size()) : data.size();

    Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    Graph quantized = fused;
    const nlohmann::json precision = apply_precision(o.precision, model, shape, FeatureOptions{}, quantized, std::cerr);
    const bool int8 = o.precision.int8();

    std::cerr << "m1c: compiling the float32" << (int8 ? " and int8" : "") << " pipelines\n";
    HostPipeline f32(fused, shape);
    f32.set_num_threads(o.threads);
    std::unique_ptr<HostPipeline> i8;
    if (int8) {
        i8 = std::make_unique<HostPipeline>(quantized, shape);
        i8->set_num_threads(o.threads);
    }
    Scores sf, sq;
    double cos_sum = 0, cos_min = 1;
    std::vector<float> image(size_t(3) * shape.height * shape.width);
    std::vector<float> lf(static_cast<size_t>(classes)), lq(static_cast<size_t>(classes));
    auto t_last = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < count; ++i) {
        data.load(i, image.data());
        f32.run(image.data(), lf.data());
        sf.add(lf.data(), classes, data.labels[size_t(i)]);
        if (int8) {
            i8->run(image.data(), lq.data());
            sq.add(lq.data(), classes, data.labels[size_t(i)]);
            double ab = 0, aa = 0, bb = 0;
            for (int c = 0; c < classes; ++c) {
                ab += double(lf[size_t(c)]) * lq[size_t(c)];
                aa += double(lf[size_t(c)]) * lf[size_t(c)];
                bb += double(lq[size_t(c)]) * lq[size_t(c)];
            }
            const double cs = aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 1.0;
            cos_sum += cs;
            cos_min = std::min(cos_min, cs);
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - t_last > std::chrono::seconds(5) || i + 1 == count) {
            t_last = now;
            std::cerr << "m1c: evaluated " << (i + 1) << "/" << count << " samples\n";
        }
    }
    int64_t agree = 0;
    for (size_t i = 0; int8 && i < sf.predictions.size(); ++i) agree += sf.predictions[i] == sq.predictions[i];

    // Per layer: the int8 pipeline's real values against float32's, op by op.
    std::vector<Sqnr> layers;
    const int64_t layer_count = std::min<int64_t>(o.layer_samples, count);
    if (int8 && layer_count > 0) {
        std::cerr << "m1c: per-layer SQNR on " << layer_count << " samples\n";
        ProbePipeline pf(fused, shape), pq(quantized, shape);
        pf.set_num_threads(o.threads);
        pq.set_num_threads(o.threads);
        for (const std::string &n : pf.names()) layers.push_back({n});
        layers.push_back({"logits"});
        for (int64_t i = 0; i < layer_count; ++i) {
            data.load(i, image.data());
            const ProbeResult a = pf.run(image.data()), b = pq.run(image.data());
            auto acc = [](Sqnr &s, const std::vector<float> &x, const std::vector<float> &y) {
                for (size_t j = 0; j < x.size(); ++j) {
                    s.signal += double(x[j]) * x[j];
                    s.noise += double(x[j] - y[j]) * (x[j] - y[j]);
                }
            };
            for (size_t t = 0; t < a.ops.size(); ++t) acc(layers[t], a.ops[t], b.ops[t]);
            acc(layers[a.ops.size()], a.pooled, b.pooled);
            acc(layers.back(), a.logits, b.logits);
        }
    }
    // The layer that breaks: the largest drop of SQNR from one op to the next (the first op
    // against the input, which int8 leaves exact).
    size_t worst = 0;
    double worst_drop = -INFINITY;
    for (size_t t = 1; t < layers.size(); ++t) {
        const double drop = layers[t - 1].db() - layers[t].db();
        if (drop > worst_drop) worst_drop = drop, worst = t;
    }

    if (o.json) {
        nlohmann::json j;
        j["model"] = model.spec.name;
        j["data"] = o.data;
        j["samples"] = count;
        j["float32"] = {{"top1", sf.top1_rate()}, {"top5", sf.top5_rate()}, {"correct", sf.top1}};
        j["precision"] = precision;
        if (int8) {
            j["int8"] = {{"top1", sq.top1_rate()}, {"top5", sq.top5_rate()}, {"correct", sq.top1}};
            j["argmax_agreement"] = double(agree) / double(count);
            j["logit_cosine"] = {{"mean", cos_sum / double(count)}, {"min", cos_min}};
            nlohmann::json ls = nlohmann::json::array();
            for (const Sqnr &s : layers) ls.push_back({{"name", s.name}, {"sqnr_db", s.db()}});
            j["layers"] = {{"samples", layer_count}, {"sqnr", ls}};
            if (!layers.empty()) j["layers"]["largest_drop"] = layers[worst].name;
        }
        std::cout << j.dump(2) << "\n";
        return;
    }
    std::cout << "model: " << model.spec.name << " (" << model.spec_origin << "), " << model.weights_path << "\n";
    std::cout << "data: " << o.data << ", " << count << " samples, " << classes << " classes\n\n";
    std::cout << "precision             top-1     top-5\n";
    std::cout << "float32             " << pct(sf.top1_rate()) << "   " << pct(sf.top5_rate()) << "\n";
    if (!int8) return;
    const std::string method = precision["calibration"]["method"];
    std::printf("int8 (%-10s)   %s   %s\n", method.c_str(), pct(sq.top1_rate()).c_str(), pct(sq.top5_rate()).c_str());
    std::cout << "\nargmax agreement int8 vs float32: " << pct(double(agree) / double(count))
              << "; logits' cosine similarity: mean " << cos_sum / double(count) << ", min " << cos_min << "\n";
    if (layers.empty()) return;
    std::cout << "\nper layer: SQNR of the int8 output vs float32, over " << layer_count
              << " samples (dB; higher is better)\n";
    for (size_t t = 0; t < layers.size(); ++t)
        std::printf("  %-22s %7.1f%s\n", layers[t].name.c_str(), layers[t].db(),
                    t == worst && worst_drop > 0 ? "   <- largest drop" : "");
}

void setup(CLI::App &app) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App *cmd = app.add_subcommand(
        "eval", "accuracy over labelled data at float32 and int8 side by side, with per-layer SQNR");
    add_model_options(cmd, o->model, /*weights_required=*/true);
    add_input_shape_options(cmd, o->model);
    cmd->add_option("--data", o->data,
                    "a .npy (N x 3 x H x W float32, preprocessed) with --labels, or a folder with "
                    "one sub-folder of PNG/JPEG images per class")
        ->required();
    cmd->add_option("--labels", o->labels, "a .npy of N integer class labels (with a .npy --data)");
    cmd->add_option("--threads", o->threads, "worker threads (0: all cores)")->capture_default_str();
    cmd->add_option("--layer-samples", o->layer_samples,
                    "samples for the per-layer SQNR (0: skip it)")
        ->capture_default_str();
    cmd->add_option("--limit", o->limit, "evaluate the first N samples only (0: all)")->capture_default_str();
    cmd->add_flag("--json", o->json, "print a JSON report");
    add_precision_options(cmd, o->precision);
    cmd->callback([o] { run(*o); });
}

CommandRegistration registration(45, setup);

}  // namespace
}  // namespace m1c::cli
