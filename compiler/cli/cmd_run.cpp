// m1c run: classifies one input on the host with the JIT-compiled pipeline, the same code
// path `m1c compile` emits ahead of time. Input is a .npy tensor (N x 3 x H x W float32,
// used as is) or a PNG/JPEG image (ImageNet preprocessing, runtime/image_input.h); the
// format is chosen by the file's content, not its name. Prints the top-K classes with
// softmax probabilities per batch item; --output saves the raw logits as .npy.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>

#include "cli/command.h"
#include "cli/feature_options.h"
#include "cli/model_options.h"
#include "cli/precision_options.h"
#include "cli/schedule_options.h"
#include "codegen/codegen.h"
#include "core/error.h"
#include "image_input.h"
#include "imagenet_labels.h"
#include "npy.h"
#include "npz.h"
#include "passes/pipeline.h"

namespace m1c::cli {
namespace {

struct RunOptions {
    ModelOptions model;
    std::string input, output;
    int threads = 0;
    int top = 5;
    codegen::ScheduleChoice schedule;
    PrecisionOptions precision;
    FeatureOptions features;
    const CLI::Option *input_size_opt = nullptr;
    const CLI::Option *batch_opt = nullptr;
};

std::string dims_text(const InputShape &s) {
    return std::to_string(s.batch) + "x3x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

// Reads the input into NCHW floats and fixes the shape it implies.
std::vector<float> read_input(const RunOptions &o, InputShape &shape, std::string &description) {
    const FileKind kind = sniff_file_kind(o.input);
    const bool size_given = o.input_size_opt && o.input_size_opt->count() > 0;
    const bool batch_given = o.batch_opt && o.batch_opt->count() > 0;
    if (kind == FileKind::Npy) {
        NpyArray a = read_npy(o.input);
        const auto &d = a.shape;
        if (d.size() != 4 || d[1] != 3)
            throw Error(o.input + ": expected an N x 3 x H x W array (NCHW, 3 channels), found shape [" +
                        [&] {
                            std::string s;
                            for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
                            return s;
                        }() + "]");
        if (d[0] < 1 || d[0] > 1024)
            throw Error(o.input + ": batch " + std::to_string(d[0]) + " is outside [1, 1024]");
        for (int i : {2, 3})
            if (d[i] < 32 || d[i] > 8192 || d[i] % 32 != 0)
                throw Error(o.input + ": " + (i == 2 ? "height " : "width ") + std::to_string(d[i]) +
                            " is not a multiple of 32 in [32, 8192] (MobileOne downsamples by 32)");
        shape.batch = int(d[0]);
        shape.height = int(d[2]);
        shape.width = int(d[3]);
        if (size_given) {
            int h = 0, w = 0;
            parse_input_size(o.model.input_size, h, w);
            if (h != shape.height || w != shape.width)
                throw Error(o.input + ": array is " + std::to_string(shape.height) + "x" +
                            std::to_string(shape.width) + " but --input-size says " + o.model.input_size);
        }
        if (batch_given && o.model.batch != shape.batch)
            throw Error(o.input + ": array holds a batch of " + std::to_string(shape.batch) +
                        " but --batch says " + std::to_string(o.model.batch));
        description = o.input + " (npy " + dims_text(shape) + ")";
        return std::move(a.data);
    }
    if (kind == FileKind::Png || kind == FileKind::Jpeg) {
        if (batch_given && o.model.batch != 1)
            throw Error(o.input + ": an image is one batch item; --batch must be 1 (or a .npy input)");
        shape = o.model.input_shape();
        shape.batch = 1;
        RgbImage image = decode_image(o.input);
        description = o.input + " (" + file_kind_name(kind) + " " + std::to_string(image.width) + "x" +
                      std::to_string(image.height) + ", ImageNet preprocessing -> " + dims_text(shape) + ")";
        return imagenet_preprocess(image, shape.height, shape.width);
    }
    throw Error(o.input + ": not a .npy, PNG or JPEG file (judged by its first bytes)");
}

// A backbone build: the feature maps, saved to --output (.npz, one array per stage).
void run_backbone(const RunOptions &o, const Graph &fused, const InputShape &shape,
                  const std::vector<float> &input, const std::string &description) {
    const auto t0 = std::chrono::steady_clock::now();
    HostPipeline pipeline(fused, shape, /*profile=*/false, o.schedule);
    pipeline.set_num_threads(o.threads);
    std::vector<std::vector<float>> maps;
    std::vector<float *> pointers;
    for (const auto &[name, d] : pipeline.feature_shapes()) {
        maps.emplace_back(size_t(d[0]) * d[1] * d[2] * d[3]);
        pointers.push_back(maps.back().data());
    }
    pipeline.run_features(input.data(), pointers.data());
    const auto t1 = std::chrono::steady_clock::now();
    std::vector<NpzMember> members;
    std::cout << "input: " << description << "\n";
    char ms[64];
    std::snprintf(ms, sizeof ms, "%.2f", std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::cout << "features: " << ms << " ms (JIT compile + run on the host)\n";
    for (size_t i = 0; i < maps.size(); ++i) {
        const auto &[name, d] = pipeline.feature_shapes()[i];
        members.push_back({name, {d[0], d[1], d[2], d[3]}, maps[i].data()});
        std::cout << "  " << name << ": [" << d[0] << ", " << d[1] << ", " << d[2] << ", " << d[3]
                  << "] (stride " << shape.height / d[2] << ")\n";
    }
    if (!o.output.empty()) {
        write_npz(o.output, members);
        std::cout << "feature maps: " << o.output << "\n";
    }
}

void run(const RunOptions &o) {
    if (o.threads < 0 || o.threads > 1024)
        throw Error("--threads " + std::to_string(o.threads) + ": expected 0 (all cores) to 1024");
    if (o.top < 1) throw Error("--top " + std::to_string(o.top) + ": expected at least 1");
    if (o.features.backbone()) {
        parse_features(o.features.list);
        if (!o.output.empty() && (o.output.size() < 4 || o.output.compare(o.output.size() - 4, 4, ".npz") != 0))
            throw Error("--output " + o.output + ": feature maps are written as .npz (one array per stage); "
                        "name the file *.npz");
    }

    // The input first: a bad input is reported before the (slower) model load.
    InputShape shape;
    std::string description;
    std::vector<float> input = read_input(o, shape, description);

    LoadedModel model = load_model(o.model.request(), std::cerr);
    Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    apply_features(o.features, model, o.precision.int8(), fused);
    if (o.features.backbone()) return run_backbone(o, fused, shape, input, description);
    apply_precision(o.precision, model, shape, fused, std::cerr);

    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = run_on_host(fused, shape, input, o.threads, o.schedule);
    const auto t1 = std::chrono::steady_clock::now();

    const int classes = model.spec.num_classes;
    if (classes <= 0 || logits.size() != size_t(shape.batch) * size_t(classes))
        throw Error("run_on_host returned " + std::to_string(logits.size()) + " values, expected " +
                    std::to_string(shape.batch) + " x " + std::to_string(classes));
    if (!o.output.empty()) write_npy(o.output, {shape.batch, classes}, logits.data());

    std::cout << "input: " << description << "\n";
    std::cout << "model: " << model.spec.name << " (" << model.spec_origin << ", "
              << weight_format_name(model.format) << " weights " << model.weights_path << ")\n";
    char ms[64];
    std::snprintf(ms, sizeof ms, "%.2f", std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::cout << "inference: " << ms << " ms (JIT compile + run on the host, threads: "
              << (o.threads ? std::to_string(o.threads) : std::string("auto")) << ")\n";
    if (!o.output.empty()) std::cout << "logits: " << o.output << " [" << shape.batch << ", " << classes << "]\n";

    const int k = std::min(o.top, classes);
    const bool imagenet = classes == 1000;
    for (int b = 0; b < shape.batch; ++b) {
        const float *row = &logits[size_t(b) * classes];
        const double mx = *std::max_element(row, row + classes);
        double sum = 0;
        for (int c = 0; c < classes; ++c) sum += std::exp(double(row[c]) - mx);
        std::vector<int> order(classes);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int a, int c) { return row[a] > row[c] || (row[a] == row[c] && a < c); });
        if (shape.batch > 1) std::cout << "item " << b << ":\n";
        for (int r = 0; r < k; ++r) {
            const int c = order[r];
            const double p = std::exp(double(row[c]) - mx) / sum;
            char line[96];
            std::snprintf(line, sizeof line, "  %2d. class %4d  p=%.4f  logit=%9.4f  ", r + 1, c, p, row[c]);
            // The class index is always shown; the name only for an ImageNet-1k head.
            std::string text = line;
            if (imagenet) text += imagenet_labels()[size_t(c)];
            while (!text.empty() && text.back() == ' ') text.pop_back();
            std::cout << text << "\n";
        }
    }
}

void setup(CLI::App &app) {
    auto o = std::make_shared<RunOptions>();
    CLI::App *cmd = app.add_subcommand(
        "run", "classify an image (PNG/JPEG) or a .npy tensor on the host (JIT) and print the top classes");
    add_model_options(cmd, o->model, /*weights_required=*/true);
    add_input_shape_options(cmd, o->model);
    o->input_size_opt = cmd->get_option("--input-size");
    o->batch_opt = cmd->get_option("--batch");
    cmd->add_option("--input,-i", o->input,
                    "input: .npy (N x 3 x H x W float32, used as is) or PNG/JPEG image (ImageNet "
                    "preprocessing to --input-size); chosen by content")
        ->required();
    cmd->add_option("--output,-o", o->output,
                    "write the logits [N, classes] to this .npy file (--features: the feature "
                    "maps to this .npz, one array per stage)");
    cmd->add_option("--threads", o->threads, "worker threads (0: all cores)")->capture_default_str();
    cmd->add_option("--top", o->top, "classes to print per batch item")->capture_default_str();
    add_schedule_options(cmd, o->schedule);
    add_precision_options(cmd, o->precision);
    add_feature_options(cmd, o->features);
    cmd->callback([o] { run(*o); });
}

CommandRegistration registration(30, setup);

}  // namespace
}  // namespace m1c::cli
