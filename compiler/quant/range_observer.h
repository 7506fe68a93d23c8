// What int8 calibration learns about one tensor from the float32 values it takes over the
// calibration samples, and the ranges the three methods choose from it.
//
// Two passes over the samples: the first finds the extremes, the second fills a histogram
// of kBins bins over [min(0, lo), max(0, hi)]. The methods:
//   minmax      the extremes themselves (PyTorch's MinMaxObserver);
//   percentile  the 0.01% / 99.99% quantiles (the outermost values are outliers);
//   mse         the range [lo, hi] * f, f in (0, 1], minimising the expected squared error
//               of quantizing the histogram to 256 levels: clipping error for the values
//               outside, rounding error step^2 / 12 inside (TensorRT's and oneDNN's idea,
//               evaluated on the histogram).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace m1c::quant {

enum class RangeMethod { MinMax, Percentile, Mse };
const char *range_method_name(RangeMethod m);  // "minmax", "percentile", "mse"
// Throws m1c::Error naming the expected names.
RangeMethod parse_range_method(const std::string &name);
std::vector<RangeMethod> all_range_methods();

struct Range {
    float lo = 0, hi = 0;  // lo <= 0 <= hi
};

class RangeObserver {
public:
    static constexpr int kBins = 2048;

    // Pass 1.
    void observe_extremes(const float *values, size_t count);
    // Between the passes: fixes the histogram's domain.
    void start_histogram();
    // Pass 2.
    void observe_histogram(const float *values, size_t count);

    Range extremes() const;
    Range choose(RangeMethod method) const;

private:
    double lo_ = 0, hi_ = 0;
    bool histogram_started_ = false;
    std::vector<double> bins_;
    uint64_t count_ = 0;
    double bin_value(int i) const;  // centre of bin i
    Range percentile_range(double fraction) const;
    Range mse_range() const;
};

}  // namespace m1c::quant
