#include "quant/calibrate.h"

#include <chrono>
#include <iomanip>

#include "codegen/probe_pipeline.h"
#include "core/error.h"

namespace m1c::quant {

namespace {

// A progress line at most every 2 s (and at the end).
class Progress {
public:
    Progress(std::ostream &log, std::string what, int64_t total)
        : log_(log), what_(std::move(what)), total_(total) {}
    void step(int64_t done) {
        const auto now = std::chrono::steady_clock::now();
        if (done != total_ && now - last_ < std::chrono::seconds(2)) return;
        last_ = now;
        const double s = std::chrono::duration<double>(now - start_).count();
        log_ << "m1c: " << what_ << " " << done << "/" << total_ << " samples, " << std::fixed
             << std::setprecision(1) << s << " s\n" << std::defaultfloat;
    }

private:
    std::ostream &log_;
    std::string what_;
    int64_t total_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

}  // namespace

Calibration calibrate(const Graph &fused, const SampleSet &samples, const CalibrateOptions &options,
                      std::ostream &log) {
    const int64_t count = options.max_samples > 0 ? std::min<int64_t>(options.max_samples, samples.size())
                                                  : samples.size();
    if (count < 1) throw Error(samples.source + ": no calibration samples");
    InputShape shape{1, samples.height, samples.width};
    log << "m1c: calibrating int8 ranges on " << count << " samples of " << samples.source << "\n";
    ProbePipeline probe(fused, shape);
    probe.set_num_threads(options.threads);
    std::vector<std::string> names{"input"};
    for (const std::string &n : probe.names()) names.push_back(n);
    std::vector<RangeObserver> observers(names.size());

    std::vector<float> image(size_t(3) * samples.height * samples.width);
    for (int pass = 0; pass < 2; ++pass) {
        Progress progress(log, pass == 0 ? "calibration pass 1/2 (extremes):" : "calibration pass 2/2 (histograms):",
                          count);
        if (pass == 1)
            for (RangeObserver &o : observers) o.start_histogram();
        for (int64_t i = 0; i < count; ++i) {
            samples.load(i, image.data());
            const ProbeResult r = probe.run(image.data());
            auto observe = [&](size_t t, const std::vector<float> &v) {
                if (pass == 0)
                    observers[t].observe_extremes(v.data(), v.size());
                else
                    observers[t].observe_histogram(v.data(), v.size());
            };
            observe(0, image);
            for (size_t t = 0; t < r.ops.size(); ++t) observe(t + 1, r.ops[t]);
            if (!r.pooled.empty()) observe(names.size() - 1, r.pooled);  // a classifier
            progress.step(i + 1);
        }
    }
    Calibration c;
    c.spec_name = options.spec_name;
    c.checkpoint_sha256 = options.checkpoint_sha256;
    c.data = samples.source;
    c.samples = int(count);
    c.height = samples.height;
    c.width = samples.width;
    c.method = options.method;
    c.output_stride = options.output_stride;
    for (size_t t = 0; t < names.size(); ++t) {
        TensorRanges tr;
        tr.name = names[t];
        tr.extremes = observers[t].extremes();
        for (RangeMethod m : all_range_methods()) tr.ranges[m] = observers[t].choose(m);
        c.tensors.push_back(std::move(tr));
    }
    return c;
}

std::map<std::string, QuantParams> quant_params_for(const Calibration &c, RangeMethod method) {
    std::map<std::string, QuantParams> params;
    for (const TensorRanges &t : c.tensors) params[t.name] = quant_params(t.ranges.at(method));
    return params;
}

}  // namespace m1c::quant
