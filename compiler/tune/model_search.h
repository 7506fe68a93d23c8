// The search over a whole model: its distinct op shapes (tuning unit keys, each searched by
// op_search.h), how each batch is shared among them, and what is known so far.
//
// Determinism: a batch is proposed from the results of the batches applied so far, and the
// tuner applies them in batch order at fixed points (tune/tuner.h), never as they happen to
// come back; a proposed configuration counts as measured at once, so no later batch proposes
// it again while it is in flight. The same seed, budget and --jobs give the same batches
// whatever the runners and their timing.
#pragma once
#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "codegen/lowered.h"
#include "records.h"
#include "tune/measure.h"
#include "tune/op_search.h"

namespace m1c::tune {

struct PlannedCandidate {
    size_t key = 0;
    bool baseline = false;  // the unit's producer + head alone
    UnitConfig config;
};

struct BatchPlan {
    int seq = 0;
    std::vector<PlannedCandidate> slots;
    int proposed = 0;  // new configurations (baselines not counted)
};

class ModelSearch {
public:
    // The units of `pipeline` whose op names are selected by `ops` (empty: all).
    ModelSearch(const codegen::LoweredPipeline &pipeline, const schedules::CpuParams &cp,
                const std::vector<std::string> &ops);

    // Takes the measurements of earlier runs (records accepted by `mine`); returns how many.
    int resume(const std::vector<schedules::TuningRecord> &records,
               const std::function<bool(const schedules::TuningRecord &)> &mine, const std::string &file);
    // Up to `room` new configurations (and the baselines not yet requested).
    BatchPlan propose(int seq, int room, std::mt19937 &rng);
    // The results of `plan` (measured or not), into what the next proposals know. Failed
    // candidates are named on `log`.
    void apply(const BatchPlan &plan, const BatchResult &result, std::ostream &log);

    std::vector<KeyState> &keys() { return keys_; }
    const std::vector<KeyState> &keys() const { return keys_; }
    int units() const { return units_; }
    // Estimated time of the model's tuned ops: best and default configurations (ms).
    void estimate(double &tuned, double &def) const;
    const KeyState *heaviest() const;  // the key with the most estimated time

private:
    std::vector<int> shares(int room) const;

    const codegen::LoweredPipeline &pipeline_;
    schedules::CpuParams cp_;
    std::vector<KeyState> keys_;
    std::map<std::string, size_t> index_;
    int units_ = 0;
};

}  // namespace m1c::tune
