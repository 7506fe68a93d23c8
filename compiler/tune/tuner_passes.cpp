// The tuner's final passes and summary. See tuner.h.
#include <algorithm>

#include "core/error.h"
#include "search_space.h"
#include "tune/candidates.h"
#include "tune/report.h"
#include "tune/tuner.h"

namespace m1c::tune {

using nlohmann::json;

// Batches through the pool, now (nothing else is in flight): each is submitted as soon as
// it is compiled, so the first ones measure while the next ones compile. `ok` says which
// were measured. Their timeouts grow with their size (in candidate runs) over a batch's.
void Tuner::measure_now(std::vector<PassBatch> &batches, const MeasureOptions &mo, const std::string &name) {
    std::vector<BuiltBatch> built(batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
        PassBatch &b = batches[i];
        const std::string what = batches.size() == 1 ? name : name + " (part " + std::to_string(i + 1) + ")";
        if (pool_->alive() == 0) break;
        built[i] = build_batch(b.batch, b.labels, mo, "final-" + std::to_string(i));
        if (built[i].binary.empty()) {
            b.result = compile_errors(built[i]);
            b.ok = true;
            continue;
        }
        const double scale = b.size / double(o_.batch * (o_.runs + 1));
        submit_job(built[i], what, o_.timeout * std::max(1.0, scale), -1, [&b, what, this](const PoolDone &d) {
            b.ok = d.ok;
            if (d.ok) b.result = d.result;
            else log_ << "tune: " << what << " given up (" << d.error << ")\n";
        });
    }
    while (pool_->pending() > 0) collect(true);
    for (const BuiltBatch &b : built) discard(b);
}

// The final pass: per op, its default and its fastest few configurations measured again
// in one binary, interleaved. Batches ran at different times under different machine
// load; these times compare like with like. The records get them (marked confirmed),
// and --schedule prefers confirmed records: the chosen configuration has then beaten
// the default side by side, or is the default. Only an op's own configurations are
// compared with each other: the ops are shared among up to --jobs binaries, measured at
// once on as many runners.
void Tuner::confirm() {
    struct Slot {
        size_t key;
        schedules::UnitConfig config;
    };
    std::vector<KeyState> &keys = search_.keys();
    std::vector<size_t> measured_keys;
    for (size_t i = 0; i < keys.size(); ++i)
        if (!keys[i].scored.empty()) measured_keys.push_back(i);
    if (measured_keys.empty()) return;
    MeasureOptions mo = mo_;
    mo.runs = std::max(mo_.runs, 15);
    const size_t groups = std::min(measured_keys.size(), size_t(o_.jobs));
    std::vector<PassBatch> batches(groups);
    std::vector<std::vector<Slot>> slots(groups);
    size_t total = 0;
    for (size_t n = 0; n < measured_keys.size(); ++n) {
        const size_t i = measured_keys[n], g = n % groups;
        const KeyState &k = keys[i];
        const json def = schedules::config_to_json(k.unit, k.default_config);
        std::vector<schedules::UnitConfig> configs = {k.default_config};
        for (const auto &[ms, c] : k.scored)
            if (configs.size() < 4 && schedules::config_to_json(k.unit, c) != def) configs.push_back(c);
        for (const schedules::UnitConfig &c : configs) {
            slots[g].push_back({i, c});
            batches[g].batch.push_back(unit_candidate(fused_, k.unit, c, cp_));
            batches[g].labels.push_back(candidate_label(k.key, schedules::config_to_json(k.unit, c)));
            batches[g].size += mo.runs + 1;
            ++total;
        }
    }
    log_ << "tune: confirming: each op's default and fastest 3 configurations side by side (" << total
         << " candidates in " << groups << " binar" << (groups == 1 ? "y" : "ies") << ") ..." << std::endl;
    measure_now(batches, mo, "the confirmation pass");
    for (size_t g = 0; g < groups; ++g) {
        if (!batches[g].ok) {
            log_ << "tune: part " << g + 1 << " of the confirmation pass was not measured; its ops keep the "
                 << "batches' times\n";
            continue;
        }
        for (size_t j = 0; j < slots[g].size(); ++j) keys[slots[g][j].key].confirmed.clear();
        for (size_t j = 0; j < slots[g].size(); ++j) {
            const Measurement &m = batches[g].result.results[j];
            if (!m.ok) continue;
            KeyState &k = keys[slots[g][j].key];
            book_->confirm(k.key, schedules::config_to_json(k.unit, slots[g][j].config), m);
            k.confirmed.emplace_back(m.median_ms, slots[g][j].config);
            if (j == 0 || slots[g][j - 1].key != slots[g][j].key) k.default_ms = m.median_ms;
        }
    }
    for (KeyState &k : keys) {
        if (k.confirmed.empty()) continue;
        std::stable_sort(k.confirmed.begin(), k.confirmed.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        k.scored = k.confirmed;
    }
}

void Tuner::summary() {
    for (const KeyState &k : search_.keys()) {
        if (k.scored.empty()) continue;
        log_ << "tune:   " << k.name << " x" << k.count << " (" << k.desc << "): " << fmt_ms(k.op_ms(k.best_ms()))
             << " ms, default " << (k.default_ms > 0 ? fmt_ms(k.op_ms(k.default_ms)) : std::string("?")) << " ms, "
             << k.measured.size() << " measured; best "
             << schedules::config_to_json(k.unit, k.scored.front().second).dump() << "\n";
    }
}

// The whole model, default schedule vs the records just written, on the same runners.
void Tuner::final_check() {
    const std::vector<Candidate> both = {model_candidate(fused_, shape_, target_, ""),
                                         model_candidate(fused_, shape_, target_, o_.out, o_.threads)};
    const std::vector<std::string> labels = {json{{"model", "default"}}.dump(), json{{"model", "tuned"}}.dump()};
    MeasureOptions mo = mo_;
    mo.runs = std::max(mo_.runs, 15);
    mo.block = 5;  // back-to-back runs, as `m1c bench` and applications run a model
    log_ << "tune: whole model check: compiling default and tuned ..." << std::endl;
    // A model is about as long as all its units together.
    std::vector<PassBatch> batches(1);
    batches[0].batch = both;
    batches[0].labels = labels;
    batches[0].size = 2.0 * search_.units() * (mo.runs + mo.runs / mo.block + 1);
    measure_now(batches, mo, "the whole-model check");
    if (!batches[0].ok) throw Error("tune: whole-model check: no runner could measure it (the records are written)");
    const BatchResult &r = batches[0].result;
    for (const auto &m : r.results)
        if (!m.ok) throw Error("tune: whole-model check failed: " + m.error.substr(0, 500));
    log_ << "tune: whole model: default " << fmt_ms(r.results[0].median_ms) << " ms, tuned "
         << fmt_ms(r.results[1].median_ms) << " ms (" << fmt_ms(r.results[0].median_ms / r.results[1].median_ms)
         << "x) on \"" << device_cpu_ << "\"\n";
    // Every op's record beats its default when measured alone; the whole can still
    // lose to noise or to interactions between ops (caches, thread pool).
    if (r.results[1].median_ms > r.results[0].median_ms * 1.02)
        log_ << "tune: warning: the tuned model measured slower than the default: noise "
                "(re-run with more --runs on a quieter machine) or interactions between ops; "
                "compare with `m1c bench --schedule "
             << o_.out << "`\n";
}

}  // namespace m1c::tune
