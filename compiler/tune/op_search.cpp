// The evolutionary search of one op shape. See op_search.h.
#include "tune/op_search.h"

#include <algorithm>

namespace m1c::tune {

void add_score(KeyState &k, double ms, const UnitConfig &c) {
    if (schedules::config_to_json(k.unit, c) == schedules::config_to_json(k.unit, k.default_config))
        k.default_ms = ms;
    k.scored.emplace_back(ms, c);
    std::stable_sort(k.scored.begin(), k.scored.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
}

bool propose(KeyState &k, const codegen::LoweredPipeline &pipeline, const schedules::CpuParams &cp,
             std::mt19937 &rng, std::set<std::string> &taken, UnitConfig &out) {
    const std::string def = schedules::config_to_json(k.unit, k.default_config).dump();
    if (!k.measured.count(def) && !taken.count(def)) {
        out = k.default_config;
        taken.insert(def);
        return true;
    }
    for (int attempt = 0; attempt < 60; ++attempt) {
        UnitConfig c;
        const double r = std::uniform_real_distribution<double>(0, 1)(rng);
        const size_t top = std::min<size_t>(k.scored.size(), 4);
        if (k.scored.size() < 3 || r < 0.1 || attempt > 40) {
            c = schedules::random_config(pipeline, k.unit, cp, rng);
        } else if (r < 0.8) {
            const size_t a = std::uniform_int_distribution<size_t>(0, top - 1)(rng);
            const size_t b = std::uniform_int_distribution<size_t>(0, top - 1)(rng);
            c = schedules::mutate_config(pipeline, k.unit, k.scored[std::min(a, b)].second, cp, rng);
        } else {
            const size_t a = std::uniform_int_distribution<size_t>(0, top - 1)(rng);
            const size_t b = std::uniform_int_distribution<size_t>(0, top - 1)(rng);
            c = schedules::crossover_config(pipeline, k.unit, k.scored[a].second,
                                            k.scored[b].second, cp, rng);
        }
        const std::string text = schedules::config_to_json(k.unit, c).dump();
        if (k.measured.count(text) || taken.count(text)) continue;
        taken.insert(text);
        out = c;
        return true;
    }
    return false;
}

}  // namespace m1c::tune
