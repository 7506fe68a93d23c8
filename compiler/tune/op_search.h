// The search state of one op shape (a tuning unit key) and the evolutionary proposal of its
// next configurations: the default configuration (the seed) first, random ones while fewer
// than 3 are measured, then mostly mutations of one of the fastest 4 (tournament of two),
// some crossovers of two of them, a little random exploration. Never a configuration
// measured (or proposed in this batch) already.
#pragma once
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "codegen/lowered.h"
#include "search_space.h"

namespace m1c::tune {

using schedules::TuneUnit;
using schedules::UnitConfig;

struct KeyState {
    nlohmann::json key;
    std::string key_text, name, desc;
    TuneUnit unit;  // in the full pipeline
    int count = 0;  // units of the model with this key
    std::set<std::string> measured;                     // config dumps: measured or in flight
    std::vector<std::pair<double, UnitConfig>> scored;  // (ms, config), sorted
    std::vector<std::pair<double, UnitConfig>> confirmed;  // the final pass
    UnitConfig default_config;
    double default_ms = 0, baseline_ms = 0;
    bool baseline_requested = false, baseline_done = false;
    double best_ms() const { return scored.empty() ? 0 : scored.front().first; }
    // Time of the unit itself (its measurement pipeline minus producer and head).
    double op_ms(double ms) const { return std::max(ms - baseline_ms, ms * 0.05); }
};

// Records a measurement of `c` (and of the default when `c` is it).
void add_score(KeyState &k, double ms, const UnitConfig &c);

// The next configuration to try for `k` into `out` (added to `taken`), or false when no
// new one was found.
bool propose(KeyState &k, const codegen::LoweredPipeline &pipeline, const schedules::CpuParams &cp,
             std::mt19937 &rng, std::set<std::string> &taken, UnitConfig &out);

}  // namespace m1c::tune
