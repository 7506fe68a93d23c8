// m1c run: classifies images on the host with the JIT-compiled pipeline, the same code path
// `m1c compile` emits ahead of time. Input is a .npy tensor (N x 3 x H x W float32, any N,
// used as is) or a PNG/JPEG image (ImageNet preprocessing); see cli/run_input.h. The
// pipeline is compiled once for a batch of B images (--batch, default 1) and run
// over the input B images at a time: the input is read a batch at a time and the logits
// (--output, N x classes .npy) are written as they come, so memory does not grow with N
// (a last, partial batch is padded with zeros and its padding dropped). Prints the compile
// time and the inference time apart, a progress line on stderr every --progress seconds,
// and the top-K classes per image (for up to 16 images, or any number with --top).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <thread>

#include "cli/command.h"
#include "cli/feature_options.h"
#include "cli/model_options.h"
#include "cli/precision_options.h"
#include "cli/run_input.h"
#include "cli/schedule_options.h"
#include "codegen/codegen.h"
#include "core/error.h"
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
    double progress = 2.0;
    codegen::ScheduleChoice schedule;
    PrecisionOptions precision;
    FeatureOptions features;
    const CLI::Option *input_size_opt = nullptr;
    const CLI::Option *batch_opt = nullptr;
    const CLI::Option *top_opt = nullptr;
};

// Batch 1 by default: the schedules are made for it, and batches of 8 were not faster per image
// here (S0, 300 images at 224x224: 3.4-3.8 ms median at batch 1, 4.9-5.4 at batch 8, about
// the same total), while they hold 8 times the activations.
constexpr int kDefaultBatch = 1;
constexpr int64_t kListedWithoutTop = 16;  // images listed unless --top asks for all
constexpr int64_t kMaxBackboneBatch = 1024;  // --features: the whole input is one batch

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string fixed(double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

void print_top(const float *row, int classes, int k, bool imagenet) {
    const double mx = *std::max_element(row, row + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(double(row[c]) - mx);
    std::vector<int> order(classes);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int c) { return row[a] > row[c] || (row[a] == row[c] && a < c); });
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

// The schedule choice for o.threads (records measured with that count preferred).
codegen::ScheduleChoice schedule_for(const RunOptions &o) {
    codegen::ScheduleChoice s = o.schedule;
    s.threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    return s;
}

// A backbone build: the feature maps of the whole input (one batch), saved to --output
// (.npz, one array per stage).

void run_backbone(const RunOptions &o, const Graph &fused, const InputShape &shape, RunInput &in) {
    std::vector<float> input(size_t(shape.batch) * 3 * shape.height * shape.width);
    in.read(0, shape.batch, input.data());
    const std::string description = in.description();
    const auto t0 = std::chrono::steady_clock::now();
    HostPipeline pipeline(fused, shape, /*profile=*/false, schedule_for(o));
    pipeline.set_num_threads(o.threads);
    const auto t_compiled = std::chrono::steady_clock::now();
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
    char times[128];
    std::snprintf(times, sizeof times, "compile: %.2f s (JIT, host)\nfeatures: %.2f ms (%d image%s, one run)\n",
                  std::chrono::duration<double>(t_compiled - t0).count(),
                  std::chrono::duration<double, std::milli>(t1 - t_compiled).count(), shape.batch,
                  shape.batch == 1 ? "" : "s");
    std::cout << times;
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
    using clock = std::chrono::steady_clock;
    if (o.threads < 0 || o.threads > 1024)
        throw Error("--threads " + std::to_string(o.threads) + ": expected 0 (all cores) to 1024");
    if (o.top < 1) throw Error("--top " + std::to_string(o.top) + ": expected at least 1");
    if (!(o.progress >= 0)) throw Error("--progress: expected seconds >= 0 (0: no progress lines)");
    const bool size_given = o.input_size_opt && o.input_size_opt->count() > 0;
    const bool batch_given = o.batch_opt && o.batch_opt->count() > 0;
    const bool top_given = o.top_opt && o.top_opt->count() > 0;
    if (o.features.backbone()) {
        parse_features(o.features.list);
        if (!o.output.empty() && (o.output.size() < 4 || o.output.compare(o.output.size() - 4, 4, ".npz") != 0))
            throw Error("--output " + o.output + ": feature maps are written as .npz (one array per stage); "
                        "name the file *.npz");
    }

    // The input first: a bad input is reported before the (slower) model load.
    const InputShape asked = o.model.input_shape();  // validates --input-size, --batch
    RunInput input(o.input, size_given, asked.height, asked.width);
    if (input.is_image() && batch_given && o.model.batch != 1)
        throw Error(o.input + ": an image is one batch item; --batch must be 1 (or a .npy input)");
    const int64_t total = input.count();
    InputShape shape;
    shape.height = input.height();
    shape.width = input.width();
    shape.batch = int(std::min<int64_t>(batch_given ? o.model.batch : kDefaultBatch, total));
    if (o.features.backbone()) {
        // Feature maps are returned whole: the input is one batch.
        if (total > kMaxBackboneBatch)
            throw Error(o.input + ": " + std::to_string(total) + " images; --features runs the input as one "
                        "batch of at most " + std::to_string(kMaxBackboneBatch) + " images");
        if (batch_given && o.model.batch != total)
            throw Error("--batch " + std::to_string(o.model.batch) + ": --features runs the whole input as "
                        "one batch (" + std::to_string(total) + " images)");
        shape.batch = int(total);
    }

    LoadedModel model = load_model(o.model.request(), std::cerr);
    Graph fused = fold_and_fuse(build_graph(model.spec, model.format, model.weights, shape));
    apply_features(o.features, model, fused);
    apply_precision(o.precision, model, shape, o.features, fused, std::cerr);
    if (o.features.backbone()) return run_backbone(o, fused, shape, input);
    // Opened before the compile, so that an unwritable --output fails fast; removed again if
    // anything fails before the last batch.
    std::unique_ptr<NpyWriter> writer;
    if (!o.output.empty())
        writer = std::make_unique<NpyWriter>(o.output, std::vector<int64_t>{total, model.spec.num_classes});

    const auto t_compile = clock::now();
    HostPipeline pipeline(fused, shape, /*profile=*/false, schedule_for(o));
    pipeline.set_num_threads(o.threads);
    const double compile_seconds = seconds(clock::now() - t_compile);
    const int classes = pipeline.num_classes();
    if (classes <= 0 || classes != model.spec.num_classes)
        throw Error("the pipeline has " + std::to_string(classes) + " classes, the model " +
                    std::to_string(model.spec.num_classes));

    const int64_t per_image = int64_t(3) * shape.height * shape.width;
    std::vector<float> batch_in(size_t(shape.batch * per_image));
    std::vector<float> batch_out(size_t(shape.batch) * size_t(classes));
    const bool list = top_given || total <= kListedWithoutTop;
    std::vector<float> listed;  // logits of the listed images

    std::vector<double> per_image_ms;
    const auto t_run = clock::now();
    auto t_progress = t_run;
    bool progressed = false;
    for (int64_t done = 0; done < total;) {
        const int64_t n = std::min<int64_t>(shape.batch, total - done);
        input.read(done, n, batch_in.data());
        if (n < shape.batch) std::fill(batch_in.begin() + n * per_image, batch_in.end(), 0.0f);
        const auto t0 = clock::now();
        pipeline.run(batch_in.data(), batch_out.data());
        per_image_ms.push_back(seconds(clock::now() - t0) * 1e3 / shape.batch);
        if (writer) writer->append(batch_out.data(), n * classes);
        if (list) listed.insert(listed.end(), batch_out.begin(), batch_out.begin() + n * classes);
        done += n;
        const auto now = clock::now();
        if (o.progress > 0 && done < total && seconds(now - t_progress) >= o.progress) {
            t_progress = now;
            progressed = true;
            std::cerr << "m1c run: " << done << "/" << total << " images, " << fixed(seconds(now - t_run), 1) << " s\n";
        }
    }
    const double run_seconds = seconds(clock::now() - t_run);
    if (progressed) std::cerr << "m1c run: " << total << "/" << total << " images, " << fixed(run_seconds, 1) << " s\n";
    if (writer) writer->finish();

    std::vector<double> sorted = per_image_ms;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double median = sorted[sorted.size() / 2];
    const int64_t batches = int64_t(per_image_ms.size());

    std::cout << "input: " << input.description() << "\n";
    std::cout << "model: " << model.spec.name << " (" << model.spec_origin << ", "
              << weight_format_name(model.format) << " weights " << model.weights_path << ")\n";
    std::cout << "compile: " << fixed(compile_seconds, 2) << " s (lowering, schedule and JIT compile for "
              << pipeline.target() << ", batch " << shape.batch << ")\n";
    std::cout << "inference: " << fixed(median, 2) << " ms/image, median of " << batches << " batch"
              << (batches == 1 ? "" : "es") << " of " << shape.batch << " (" << total << " image"
              << (total == 1 ? "" : "s") << " in " << fixed(run_seconds, 2) << " s; threads: "
              << (o.threads ? std::to_string(o.threads) : std::string("auto")) << ")\n";
    if (writer) std::cout << "logits: " << o.output << " [" << total << ", " << classes << "]\n";

    if (!list) {
        std::cout << total << " images: classes not listed (more than " << kListedWithoutTop
                  << "; --top K lists them, --output saves the logits)\n";
        return;
    }
    const int k = std::min(o.top, classes);
    for (int64_t b = 0; b < total; ++b) {
        if (total > 1) std::cout << "item " << b << ":\n";
        print_top(&listed[size_t(b) * classes], classes, k, classes == 1000);
    }
}

void setup(CLI::App &app) {
    auto o = std::make_shared<RunOptions>();
    CLI::App *cmd = app.add_subcommand(
        "run", "classify an image (PNG/JPEG) or a .npy of any number of images on the host (JIT), in batches");
    add_model_options(cmd, o->model, /*weights_required=*/true);
    add_input_shape_options(cmd, o->model);
    o->batch_opt = cmd->get_option("--batch");
    o->input_size_opt = cmd->get_option("--input-size");
    cmd->get_option("--batch")->description("images per run of the pipeline (default 1; at most N); a .npy of any N runs in batches of this size");
    cmd->add_option("--input,-i", o->input,
                    "input: .npy (N x 3 x H x W float32, any N, used as is) or PNG/JPEG image (ImageNet "
                    "preprocessing to --input-size); chosen by content")
        ->required();
    cmd->add_option("--output,-o", o->output,
                    "write the logits [N, classes] to this .npy file (--features: the feature "
                    "maps to this .npz, one array per stage)");
    cmd->add_option("--threads", o->threads, "worker threads (0: all cores)")->capture_default_str();
    o->top_opt = cmd->add_option("--top", o->top, "classes to print per image (given: every image is listed, "
                                                  "else only inputs of up to 16 images)")
                     ->capture_default_str();
    cmd->add_option("--progress", o->progress, "seconds between progress lines on stderr (0: none)")
        ->capture_default_str();
    add_schedule_options(cmd, o->schedule);
    add_precision_options(cmd, o->precision);
    add_feature_options(cmd, o->features);
    cmd->callback([o] { run(*o); });
}

CommandRegistration registration(30, setup);

}  // namespace
}  // namespace m1c::cli
