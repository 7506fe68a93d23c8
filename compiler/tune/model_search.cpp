// The search over a whole model. See model_search.h.
#include "tune/model_search.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "knobs.h"
#include "search_space.h"

namespace m1c::tune {

using nlohmann::json;

namespace {

bool selected(const std::vector<std::string> &ops, const std::string &name, const std::string &dw) {
    if (ops.empty()) return true;
    for (const std::string &o : ops)
        for (const std::string &n : {name, dw})
            if (!n.empty() && (n == o || n.rfind(o + ".", 0) == 0)) return true;
    return false;
}

}  // namespace

ModelSearch::ModelSearch(const codegen::LoweredPipeline &pipeline, const schedules::CpuParams &cp,
                         const std::vector<std::string> &ops)
    : pipeline_(pipeline), cp_(cp) {
    const std::vector<schedules::OpKnobs> defaults = schedules::default_knobs(pipeline_, cp_);
    for (const TuneUnit &u : schedules::tune_units(pipeline_)) {
        const std::string name = schedules::unit_name(pipeline_, u);
        const std::string dw = u.dw >= 0 ? pipeline_.convs[u.dw].name : "";
        if (!selected(ops, name, dw)) continue;
        ++units_;
        const json key = schedules::unit_key(pipeline_, u);
        const std::string text = key.dump();
        auto it = index_.find(text);
        if (it == index_.end()) {
            KeyState k;
            k.key = key;
            k.key_text = text;
            k.name = name;
            k.desc = schedules::describe_unit(pipeline_, u);
            k.unit = u;
            k.default_config = schedules::default_config(defaults, u);
            it = index_.emplace(text, keys_.size()).first;
            keys_.push_back(std::move(k));
        }
        ++keys_[it->second].count;
    }
    if (keys_.empty()) throw Error("--ops: no op of the model matches");
}

int ModelSearch::resume(const std::vector<schedules::TuningRecord> &records,
                        const std::function<bool(const schedules::TuningRecord &)> &mine,
                        const std::string &file) {
    int resumed = 0;
    for (const auto &r : records) {
        if (!mine(r)) continue;
        auto it = index_.find(r.op.dump());
        if (it == index_.end()) continue;
        KeyState &k = keys_[it->second];
        if (r.config.contains("baseline")) {
            k.baseline_ms = r.median_ms;
            k.baseline_done = k.baseline_requested = true;
            continue;
        }
        UnitConfig c;
        try {
            c = schedules::config_from_json(k.unit, r.config);
        } catch (const Error &e) {
            throw Error(file + ": " + e.what());
        }
        if (!schedules::check_config(pipeline_, k.unit, c, cp_).empty()) continue;
        if (!k.measured.insert(schedules::config_to_json(k.unit, c).dump()).second) continue;
        add_score(k, r.median_ms, c);
        ++resumed;
    }
    return resumed;
}

// Share of the batch per key: its estimated part of the model's time.
std::vector<int> ModelSearch::shares(int room) const {
    std::vector<double> w(keys_.size());
    double total = 0;
    for (size_t i = 0; i < keys_.size(); ++i) {
        const KeyState &k = keys_[i];
        w[i] = k.count * (k.scored.empty() ? 1.0 : k.op_ms(k.best_ms()));
        total += w[i];
    }
    std::vector<int> s(keys_.size(), 0);
    int given = 0;
    // At least one each (while room lasts), in order of weight; the rest by weight.
    std::vector<size_t> order(keys_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
    for (size_t i : order)
        if (given < room) s[i] = 1, ++given;
    const int rest = room - given;
    for (size_t i : order) {
        const int extra = total > 0 ? int(std::floor(rest * w[i] / total)) : 0;
        s[i] += extra;
        given += extra;
    }
    for (size_t j = 0; given < room && !order.empty(); ++j, ++given) ++s[order[j % order.size()]];
    return s;
}

BatchPlan ModelSearch::propose(int seq, int room, std::mt19937 &rng) {
    BatchPlan plan;
    plan.seq = seq;
    for (size_t i = 0; i < keys_.size(); ++i)
        if (!keys_[i].baseline_requested && keys_[i].unit.first() > 0) {
            plan.slots.push_back({i, true, {}});
            keys_[i].baseline_requested = true;
        }
    const std::vector<int> s = shares(room);
    for (size_t i = 0; i < keys_.size(); ++i) {
        std::set<std::string> taken;
        for (int j = 0; j < s[i]; ++j) {
            UnitConfig c;
            if (!tune::propose(keys_[i], pipeline_, cp_, rng, taken, c)) break;
            plan.slots.push_back({i, false, c});
            ++plan.proposed;
        }
        keys_[i].measured.insert(taken.begin(), taken.end());
    }
    return plan;
}

void ModelSearch::apply(const BatchPlan &plan, const BatchResult &r, std::ostream &log) {
    for (size_t j = 0; j < plan.slots.size(); ++j) {
        KeyState &k = keys_[plan.slots[j].key];
        const Measurement &m = r.results[j];
        if (plan.slots[j].baseline) {
            k.baseline_done = true;
            if (m.ok) k.baseline_ms = m.median_ms;
            continue;
        }
        if (!m.ok) {
            if (!m.error.empty())
                log << "tune: " << k.name << ": a candidate failed (" << m.error.substr(0, 300) << ")\n";
            continue;
        }
        add_score(k, m.median_ms, plan.slots[j].config);
    }
}

void ModelSearch::estimate(double &tuned, double &def) const {
    tuned = def = 0;
    for (const KeyState &k : keys_) {
        if (k.scored.empty()) continue;
        tuned += k.count * k.op_ms(k.best_ms());
        def += k.count * k.op_ms(k.default_ms > 0 ? k.default_ms : k.best_ms());
    }
}

const KeyState *ModelSearch::heaviest() const {
    const KeyState *top = nullptr;
    for (const KeyState &k : keys_)
        if (!k.scored.empty() && (!top || k.count * k.op_ms(k.best_ms()) > top->count * top->op_ms(top->best_ms())))
            top = &k;
    return top;
}

}  // namespace m1c::tune
