// Progress output of `m1c tune`. See report.h.
#include "tune/report.h"

#include <cstdio>
#include <map>

#include "search_space.h"

namespace m1c::tune {

std::string fmt_ms(double ms) {
    char b[32];
    std::snprintf(b, sizeof b, ms < 1 ? "%.3f" : "%.2f", ms);
    return b;
}

std::string fmt_elapsed(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
    return b;
}

ModelEstimate estimate_model(const std::vector<KeyState> &keys, const RecordBook &book) {
    struct Times {
        double best = 0, def = 0, baseline = 0;
    };
    std::map<std::string, Times> times;  // by op key text
    std::map<std::string, std::string> default_config;
    for (const KeyState &k : keys) {
        times[k.key_text];
        default_config[k.key_text] = schedules::config_to_json(k.unit, k.default_config).dump();
    }
    book.for_each([&](const schedules::TuningRecord &r) {
        if (!book.mine(r)) return;
        auto it = times.find(r.op.dump());
        if (it == times.end()) return;
        Times &t = it->second;
        if (r.config.contains("baseline")) {
            t.baseline = r.median_ms;
        } else {
            if (t.best == 0 || r.median_ms < t.best) t.best = r.median_ms;
            if (r.config.dump() == default_config[it->first]) t.def = r.median_ms;
        }
    });
    ModelEstimate e;
    for (const KeyState &k : keys) {
        const Times &t = times[k.key_text];
        if (t.best == 0) continue;
        auto op_ms = [&](double ms) { return std::max(ms - t.baseline, ms * 0.05); };
        const double best = op_ms(t.best), def = op_ms(t.def > 0 ? t.def : t.best);
        e.tuned += k.count * best;
        e.def += k.count * def;
        if (!e.top || k.count * best > e.top->count * e.top_best) e.top = &k, e.top_best = best, e.top_default = def;
    }
    return e;
}

}  // namespace m1c::tune
