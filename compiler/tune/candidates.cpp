// Candidate pipelines of a tuning run. See candidates.h.
#include "tune/candidates.h"

#include <sstream>

#include "codegen/lowered.h"
#include "knobs.h"
#include "tune/unit_graph.h"
#include "tuned_schedule.h"

namespace m1c::tune {

using schedules::CpuParams;
using schedules::TuneUnit;
using schedules::UnitConfig;

// The builders run on compile threads later: they capture the graph by pointer (it
// outlives the tuning run) and everything else by value.
Candidate unit_candidate(const Graph &fused, const TuneUnit &unit, const UnitConfig &c, const CpuParams &cp) {
    const Graph *g = &fused;
    return [=] {
        const int first = unit.first(), last = unit.last();
        UnitGraph ug = unit_graph(*g, first, last);
        codegen::LoweredPipeline p = codegen::lower(ug.graph, ug.shape, false);
        std::vector<schedules::OpKnobs> knobs = schedules::default_knobs(p, cp);
        TuneUnit mu = unit;
        if (mu.dense >= 0) mu.dense = mu.dense - first + ug.offset;
        if (mu.dw >= 0) mu.dw = mu.dw - first + ug.offset;
        schedules::set_config(knobs, mu, c);
        schedules::apply_knobs(p, cp, knobs);
        return p;
    };
}

Candidate baseline_candidate(const Graph &fused, const TuneUnit &unit, const CpuParams &cp) {
    const Graph *g = &fused;
    const int first = unit.first();
    return [=] {
        UnitGraph ug = baseline_graph(*g, first);
        codegen::LoweredPipeline p = codegen::lower(ug.graph, ug.shape, false);
        schedules::apply_knobs(p, cp, schedules::default_knobs(p, cp));
        return p;
    };
}

Candidate model_candidate(const Graph &fused, const InputShape &shape, const Halide::Target &target,
                          const std::string &records, int threads) {
    const Graph *g = &fused;
    return [=] {
        codegen::LoweredPipeline p = codegen::lower(*g, shape, false);
        if (records.empty()) {
            schedules::apply_default_schedule(p, target);
        } else {
            std::ostringstream quiet;
            schedules::apply_tuned_schedule(p, target, records, quiet, threads);
        }
        return p;
    };
}

std::string candidate_label(const nlohmann::json &op, const nlohmann::json &config) {
    return nlohmann::json{{"op", op}, {"config", config}}.dump();
}

}  // namespace m1c::tune
