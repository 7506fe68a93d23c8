#include "quant/range_observer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace m1c::quant {

const char *range_method_name(RangeMethod m) {
    switch (m) {
    case RangeMethod::MinMax: return "minmax";
    case RangeMethod::Percentile: return "percentile";
    case RangeMethod::Mse: return "mse";
    }
    return "?";
}

RangeMethod parse_range_method(const std::string &name) {
    for (RangeMethod m : all_range_methods())
        if (name == range_method_name(m)) return m;
    throw Error("calibration method \"" + name + "\": expected minmax, percentile or mse");
}

std::vector<RangeMethod> all_range_methods() {
    return {RangeMethod::MinMax, RangeMethod::Percentile, RangeMethod::Mse};
}

void RangeObserver::observe_extremes(const float *values, size_t count) {
    double lo = lo_, hi = hi_;
    for (size_t i = 0; i < count; ++i) {
        lo = std::min(lo, double(values[i]));
        hi = std::max(hi, double(values[i]));
    }
    lo_ = lo;
    hi_ = hi;
}

void RangeObserver::start_histogram() {
    bins_.assign(kBins, 0.0);
    histogram_started_ = true;
}

void RangeObserver::observe_histogram(const float *values, size_t count) {
    if (!histogram_started_) start_histogram();
    const double width = hi_ - lo_;
    if (!(width > 0)) {
        bins_[0] += double(count);
        count_ += count;
        return;
    }
    const double scale = kBins / width;
    for (size_t i = 0; i < count; ++i) {
        // Exact zeros (most of a ReLU's output) are quantized without error by any range:
        // they are left out, or they would push the MSE choice towards narrow ranges.
        if (values[i] == 0.0f) continue;
        int b = int((double(values[i]) - lo_) * scale);
        b = std::clamp(b, 0, kBins - 1);
        bins_[size_t(b)] += 1.0;
    }
    count_ += count;
}

Range RangeObserver::extremes() const { return {float(lo_), float(hi_)}; }

double RangeObserver::bin_value(int i) const { return lo_ + (i + 0.5) * (hi_ - lo_) / kBins; }

Range RangeObserver::percentile_range(double fraction) const {
    if (count_ == 0 || !(hi_ > lo_)) return extremes();
    const double tail = double(count_) * (1.0 - fraction);
    // Only a side that extends beyond zero is trimmed.
    double acc = 0;
    int top = kBins - 1;
    while (top > 0 && acc + bins_[size_t(top)] <= tail) acc += bins_[size_t(top--)];
    acc = 0;
    int bottom = 0;
    while (bottom < kBins - 1 && acc + bins_[size_t(bottom)] <= tail) acc += bins_[size_t(bottom++)];
    const double step = (hi_ - lo_) / kBins;
    Range r;
    r.hi = float(std::max(0.0, lo_ + (top + 1) * step));
    r.lo = lo_ < 0 ? float(std::min(0.0, lo_ + bottom * step)) : 0.0f;
    return r;
}

Range RangeObserver::mse_range() const {
    if (count_ == 0 || !(hi_ > lo_)) return extremes();
    // Candidates: the full range scaled by f = k / 256, k = 8..256.
    double best_err = -1;
    Range best = extremes();
    for (int k = 256; k >= 8; --k) {
        const double f = k / 256.0;
        const double lo = lo_ * f, hi = hi_ * f;
        const double step = (hi - lo) / 255.0;
        double err = 0;
        for (int i = 0; i < kBins; ++i) {
            const double n = bins_[size_t(i)];
            if (n == 0) continue;
            const double v = bin_value(i);
            if (v > hi) err += n * (v - hi) * (v - hi);
            else if (v < lo) err += n * (lo - v) * (lo - v);
            else err += n * step * step / 12.0;
        }
        if (best_err < 0 || err < best_err) {
            best_err = err;
            best = {float(lo), float(hi)};
        }
    }
    return best;
}

Range RangeObserver::choose(RangeMethod method) const {
    switch (method) {
    case RangeMethod::MinMax: return extremes();
    case RangeMethod::Percentile: return percentile_range(0.9999);
    case RangeMethod::Mse: return mse_range();
    }
    return extremes();
}

}  // namespace m1c::quant
