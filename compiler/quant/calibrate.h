// Calibration: runs the float32 model (a ProbePipeline) over sample images, observes every
// tensor an int8 build quantizes (two passes: extremes, then histograms) and keeps the
// ranges every method chooses (range_observer.h).
#pragma once
#include <map>
#include <ostream>
#include <string>

#include "ir/graph.h"
#include "quant/calibration.h"
#include "quant/samples.h"

namespace m1c::quant {

struct CalibrateOptions {
    int max_samples = 0;  // 0: all
    int threads = 0;      // 0: all cores
    RangeMethod method = RangeMethod::Mse;
    std::string spec_name, checkpoint_sha256;  // recorded in the calibration
    int output_stride = 32;                    // recorded: the graph's (16, 8: dilated backbone)
};

// `fused`: the float32 fused graph at batch 1 and the samples' size (a classifier, or a
// backbone's graph: cli/feature_options.h select_backbone). Progress goes to `log`.
Calibration calibrate(const Graph &fused, const SampleSet &samples, const CalibrateOptions &options,
                      std::ostream &log);

// The quantization of every tensor (passes.h: annotate_int8's keys) with `method`'s ranges.
std::map<std::string, QuantParams> quant_params_for(const Calibration &c, RangeMethod method);

}  // namespace m1c::quant
