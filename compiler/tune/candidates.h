// The candidates a tuning run measures, as builders of scheduled pipelines (tune/measure.h)
// with the labels their measurement binaries carry (tune/harness.h).
#pragma once
#include <string>

#include <Halide.h>
#include <nlohmann/json.hpp>

#include "ir/build_graph.h"
#include "ir/graph.h"
#include "search_space.h"
#include "tune/measure.h"

namespace m1c::tune {

// Unit `unit` of the fused graph with configuration `c`, in its measurement graph
// (tune/unit_graph.h), every other op of that graph on the default knobs.
Candidate unit_candidate(const Graph &fused, const schedules::TuneUnit &unit, const schedules::UnitConfig &c,
                         const schedules::CpuParams &cp);
// The producer and head of that measurement graph alone.
Candidate baseline_candidate(const Graph &fused, const schedules::TuneUnit &unit, const schedules::CpuParams &cp);
// The whole model with the default schedule (records empty) or the records of `records`.
Candidate model_candidate(const Graph &fused, const InputShape &shape, const Halide::Target &target,
                          const std::string &records, int threads = 1);

// {"op": key, "config": config}, compact: what a measurement binary says a slot is.
std::string candidate_label(const nlohmann::json &op, const nlohmann::json &config);

}  // namespace m1c::tune
