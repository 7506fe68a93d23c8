#include "cli/precision_options.h"

#include <filesystem>
#include <random>

#include "codegen/sha256.h"
#include "core/error.h"
#include "image_input.h"
#include "passes/passes.h"
#include "passes/pipeline.h"
#include "quant/calibrate.h"

namespace m1c::cli {

void add_precision_options(CLI::App *cmd, PrecisionOptions &o) {
    cmd->add_option("--precision", o.precision,
                    "f32, or int8: 8-bit activations and per-channel int8 weights, ranges "
                    "calibrated on --calibration data")
        ->capture_default_str()
        ->check(CLI::IsMember({"f32", "int8"}));
    cmd->add_option("--calibration", o.calibration,
                    "int8 calibration: a .npy (N x 3 x H x W float32, preprocessed), a folder of "
                    "PNG/JPEG images, a calibration .json (--save-calibration), or random[:N]");
    cmd->add_option("--save-calibration", o.save_calibration,
                    "write the calibrated ranges to this .json (reusable with --calibration)");
    cmd->add_option("--calibration-method", o.method,
                    "range method: minmax, percentile (99.99%) or mse (default: the file's, else mse)")
        ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
    cmd->add_option("--calibration-samples", o.calibration_samples,
                    "calibrate on at most this many samples (0: all)")
        ->capture_default_str();
}

namespace {

// "random" or "random:N": N images of N(0, 1) values (seeded), for timing only.
bool parse_random(const std::string &text, int &count) {
    if (text == "random") {
        count = 8;
        return true;
    }
    if (text.rfind("random:", 0) != 0) return false;
    const std::string n = text.substr(7);
    char *end = nullptr;
    const long v = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end || v < 1 || v > 100000)
        throw Error("--calibration " + text + ": expected random:N with N in [1, 100000]");
    count = int(v);
    return true;
}

quant::SampleSet random_samples(int count, const InputShape &shape) {
    quant::SampleSet s;
    s.source = "random:" + std::to_string(count);
    s.height = shape.height;
    s.width = shape.width;
    s.array.shape = {count, 3, shape.height, shape.width};
    s.array.data.resize(size_t(count) * 3 * shape.height * shape.width);
    std::mt19937 rng(1234);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (float &v : s.array.data) v = d(rng);
    return s;
}

bool is_calibration_file(const std::string &path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    return sniff_file_kind(path) == FileKind::Unknown;
}

}  // namespace

nlohmann::json apply_precision(const PrecisionOptions &o, const LoadedModel &model,
                               const InputShape &shape, const FeatureOptions &features, Graph &fused,
                               std::ostream &log) {
    if (!o.int8()) {
        if (!o.calibration.empty() || !o.save_calibration.empty() || !o.method.empty())
            throw Error("--calibration, --save-calibration and --calibration-method need --precision int8");
        return {{"precision", "f32"}};
    }
    if (o.calibration_samples < 0) throw Error("--calibration-samples: expected 0 or more");
    const std::string source = o.calibration.empty() ? o.default_calibration : o.calibration;
    if (source.empty())
        throw Error("--precision int8 needs --calibration: a .npy of preprocessed samples, a folder "
                    "of images, or a calibration .json saved with --save-calibration");
    const std::string sha = model.weights_path.empty() ? "" : sha256_file(model.weights_path);
    quant::Calibration cal;
    std::string origin;
    int random_count = 0;
    if (parse_random(source, random_count) || !is_calibration_file(source)) {
        quant::SampleSet samples = random_count > 0 ? random_samples(random_count, shape)
                                                    : quant::load_samples(source, shape.height, shape.width, log);
        if (random_count > 0)
            log << "m1c: calibrating on " << random_count
                << " RANDOM images: fine for timing, meaningless for accuracy\n";
        quant::CalibrateOptions co;
        co.max_samples = o.calibration_samples;
        co.method = o.method.empty() ? quant::RangeMethod::Mse : quant::parse_range_method(o.method);
        co.spec_name = model.spec.name;
        co.checkpoint_sha256 = sha;
        co.output_stride = features.backbone() ? features.output_stride : 32;
        // Calibration runs the float32 model (or backbone) one sample at a time.
        Graph float1 = fold_and_fuse(build_graph(model.spec, model.format, model.weights,
                                                 InputShape{1, shape.height, shape.width}));
        if (features.backbone()) select_backbone(features, float1);
        cal = quant::calibrate(float1, samples, co, log);
        origin = "calibrated on data";
    } else {
        cal = quant::load_calibration(source);
        if (!o.method.empty()) cal.method = quant::parse_range_method(o.method);
        origin = "calibration file";
        const int stride = features.backbone() ? features.output_stride : 32;
        if (cal.output_stride != stride)
            throw Error(source + ": calibrated at output stride " + std::to_string(cal.output_stride) +
                        ", this build has output stride " + std::to_string(stride) +
                        ": the dilated stages compute other values; calibrate on data for this build");
        if (!sha.empty() && !cal.checkpoint_sha256.empty() && cal.checkpoint_sha256 != sha)
            log << "m1c: warning: " << source << " was calibrated for another checkpoint (SHA-256 "
                << cal.checkpoint_sha256.substr(0, 12) << "..., this one " << sha.substr(0, 12)
                << "...)\n";
        log << "m1c: int8 ranges from " << source << " (" << cal.samples << " samples of "
            << cal.data << ", method " << quant::range_method_name(cal.method) << ")\n";
    }
    if (!o.save_calibration.empty()) {
        quant::save_calibration(cal, o.save_calibration);
        log << "m1c: wrote " << o.save_calibration << "\n";
    }
    try {
        annotate_int8(fused, quant::quant_params_for(cal, cal.method));
    } catch (const Error &e) {
        throw Error(source + ": " + e.what());
    }
    return {{"precision", "int8"},
            {"weights", "int8, symmetric, one scale per output channel"},
            {"activations", "8-bit, one scale and zero point per tensor"},
            {"float32_parts", "the stem (float input, float weights), requantization, squeeze-excite, the pooled mean"},
            {"calibration",
             {{"source", origin},
              {"path", source},
              {"method", quant::range_method_name(cal.method)},
              {"samples", cal.samples},
              {"data", cal.data},
              {"input_size", {cal.height, cal.width}},
              {"output_stride", cal.output_stride}}}};
}

}  // namespace m1c::cli
