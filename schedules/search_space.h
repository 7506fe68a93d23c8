// The tuner's search space, next to the templates it parameterises (templates.h): per tuning
// unit, the knobs of DenseKnobs / DepthwiseKnobs with their legal ranges for the unit's
// shapes. A unit is a pointwise (or any dense) op together with the depthwise op feeding it
// -- tuned jointly, since the depthwise rows can be computed inside the pointwise row loop --
// or a depthwise op alone (squeeze-excite, or no pointwise consumer). The head and the
// squeeze-excite reductions keep their templates (a few percent of the time).
//
// Legal ranges (cp = the target's CpuParams):
//   dense  vec      = channel_lanes(cout)                (fixed: the weight layout's vector)
//          cv       1..8; tc = cv*vec <= cout (or cv = 1); tc a multiple or divisor of 16
//                   (codegen::kWeightBlock: a tile reads whole weight blocks)
//          tx       1..min(out_w, 16); cv*tx + cv + 1 <= vector registers (no spills)
//          parallel rows | tiles (channel tiles x rows)
//          order    co_outer | co_inner (pixel tiles outside channel tiles; rows only)
//   dw     inside   true only in a unit with a pointwise op parallel over rows
//          ux       1, 2, 4, 8 pixels unrolled, <= out_w
//          lanes    a power of two <= min(2 * vector lanes, cout)
// Every default knob value is inside these ranges: the default configuration is a point of
// the space (the search's seed), so a tuned schedule is never worse than the measured default.
#pragma once
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "knobs.h"

namespace m1c::schedules {

struct TuneUnit {
    int dense = -1;  // index into LoweredPipeline::convs, or -1
    int dw = -1;     // the depthwise op (feeding `dense` when both are set), or -1
    int first() const { return dw >= 0 ? dw : dense; }
    int last() const { return dense >= 0 ? dense : dw; }
};

struct UnitConfig {
    DenseKnobs dense;
    DepthwiseKnobs dw;
};

// The units of a pipeline, in op order.
std::vector<TuneUnit> tune_units(const codegen::LoweredPipeline &p);

// The shape signature: units with equal keys share measurements (across layers, variants).
nlohmann::json unit_key(const codegen::LoweredPipeline &p, const TuneUnit &u);
// e.g. "dw3x3/2+pw 64->128 56x56"
std::string describe_unit(const codegen::LoweredPipeline &p, const TuneUnit &u);
std::string unit_name(const codegen::LoweredPipeline &p, const TuneUnit &u);  // "stage2.3"

UnitConfig default_config(const std::vector<OpKnobs> &defaults, const TuneUnit &u);
void set_config(std::vector<OpKnobs> &knobs, const TuneUnit &u, const UnitConfig &c);

// Empty when `c` is legal for `u`, else what is wrong ("tx 9: ...").
std::string check_config(const codegen::LoweredPipeline &p, const TuneUnit &u,
                         const UnitConfig &c, const CpuParams &cp);

nlohmann::json config_to_json(const TuneUnit &u, const UnitConfig &c);
// Throws m1c::Error("<what is wrong>") on missing keys or wrong types; legality is
// check_config's job.
UnitConfig config_from_json(const TuneUnit &u, const nlohmann::json &j);

// A legal configuration chosen at random / `c` with one or two knobs changed (legal).
UnitConfig random_config(const codegen::LoweredPipeline &p, const TuneUnit &u,
                         const CpuParams &cp, std::mt19937 &rng);
UnitConfig mutate_config(const codegen::LoweredPipeline &p, const TuneUnit &u,
                         const UnitConfig &c, const CpuParams &cp, std::mt19937 &rng);
// Knob by knob from either parent, repaired to be legal.
UnitConfig crossover_config(const codegen::LoweredPipeline &p, const TuneUnit &u,
                            const UnitConfig &a, const UnitConfig &b, const CpuParams &cp,
                            std::mt19937 &rng);

}  // namespace m1c::schedules
