// The tuning driver. See tune.h.
//
// Per batch: every unit key gets a share of the batch (proportional to its estimated share
// of the model's time, at least one candidate), the candidates are compiled into one
// measurement binary and measured together, the records file is rewritten. Per key the
// search is evolutionary: the default configuration (the seed) and a few random ones
// first, then mostly mutations of the fastest few (tournament), some crossovers, a little
// random exploration. Configurations already measured are never measured again.
#include "tune/tune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "codegen/lowered.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "knobs.h"
#include "records.h"
#include "search_space.h"
#include "tune/measure.h"
#include "tune/op_search.h"
#include "tune/runner.h"
#include "tune/unit_graph.h"
#include "tuned_schedule.h"

namespace m1c::tune {

namespace fs = std::filesystem;
using nlohmann::json;
using schedules::TuneUnit;
using schedules::UnitConfig;


namespace {


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

bool selected(const std::vector<std::string> &ops, const std::string &name, const std::string &dw) {
    if (ops.empty()) return true;
    for (const std::string &o : ops)
        for (const std::string &n : {name, dw})
            if (!n.empty() && (n == o || n.rfind(o + ".", 0) == 0)) return true;
    return false;
}

class Tuner {
public:
    Tuner(const Graph &fused, const InputShape &shape, const TuneOptions &o, std::ostream &log)
        : fused_(fused), shape_(shape), o_(o), log_(log), rng_(o.seed),
          pipeline_(codegen::lower(fused, shape, false)) {
        target_ = codegen::parse_target(o.target);
        cp_ = schedules::cpu_params_for(target_);
        runner_ = o.runner.empty() ? local_runner() : command_runner(o.runner);
        mo_.target = target_;
        mo_.cc = o.cc.empty() ? default_cc(target_) : o.cc;
        mo_.runs = o.runs;
        mo_.threads = o.threads;
        mo_.jobs = o.jobs;
        mo_.work_dir = o.work_dir;
        defaults_ = schedules::default_knobs(pipeline_, cp_);
        device_ = o.runner.empty() ? schedules::host_device()
                                   : json{{"cpu", "unknown"}, {"runner", runner_->describe()}};
    }

    void run() {
        collect_keys();
        load_existing();
        const auto t0 = std::chrono::steady_clock::now();
        auto elapsed = [&] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        log_ << "tune: " << keys_.size() << " distinct ops (" << units_ << " in the model) for "
             << target_.to_string() << " on runner " << runner_->describe() << ", budget "
             << (o_.trials > 0 ? std::to_string(o_.trials) + " trials" : std::string())
             << (o_.trials > 0 && o_.seconds > 0 ? ", " : "")
             << (o_.seconds > 0 ? fmt_elapsed(o_.seconds) : std::string()) << "\n";
        int trials = 0;
        double last_batch_s = 0;
        while (true) {
            if (o_.trials > 0 && trials >= o_.trials) break;
            // Stop when the next batch would likely overrun the time budget.
            if (o_.seconds > 0 && elapsed() + 0.5 * last_batch_s >= o_.seconds) break;
            int room = o_.batch;
            if (o_.trials > 0) room = std::min(room, o_.trials - trials);
            const auto tb = std::chrono::steady_clock::now();
            const int n = run_batch(room);
            last_batch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - tb).count();
            if (n == 0) {
                log_ << "tune: every configuration of every op has been measured\n";
                break;
            }
            trials += n;
            progress(trials, elapsed());
        }
        confirm();
        write();
        log_ << "tune: " << trials << " new measurements, " << records_.size() << " records in "
             << o_.out << " (" << fmt_elapsed(elapsed()) << ")\n";
        summary();
        if (o_.final_check) final_check();
    }

private:
    void collect_keys() {
        for (const TuneUnit &u : schedules::tune_units(pipeline_)) {
            const std::string name = schedules::unit_name(pipeline_, u);
            const std::string dw = u.dw >= 0 ? pipeline_.convs[u.dw].name : "";
            if (!selected(o_.ops, name, dw)) continue;
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
                k.default_config = schedules::default_config(defaults_, u);
                index_[text] = keys_.size();
                keys_.push_back(std::move(k));
                it = index_.find(text);
            }
            ++keys_[it->second].count;
        }
        if (keys_.empty()) throw Error("--ops: no op of the model matches");
    }

    bool mine(const schedules::TuningRecord &r) const {
        if (!schedules::same_target_class(r.target, target_)) return false;
        if (!r.device.contains("runner") || r.device.at("runner") != device_.at("runner")) return false;
        return o_.runner.empty() ? r.device.at("cpu") == device_.at("cpu") : true;
    }

    void load_existing() {
        if (o_.out.empty()) throw Error("--out: no records file given");
        std::error_code ec;
        if (!fs::exists(o_.out, ec)) return;
        records_ = schedules::read_records(o_.out);
        int resumed = 0;
        for (const auto &r : records_) {
            if (!mine(r)) continue;
            auto it = index_.find(r.op.dump());
            if (it == index_.end()) continue;
            KeyState &k = keys_[it->second];
            if (r.config.contains("baseline")) {
                k.baseline_ms = r.median_ms;
                k.baseline_done = true;
                continue;
            }
            UnitConfig c;
            try {
                c = schedules::config_from_json(k.unit, r.config);
            } catch (const Error &e) {
                throw Error(o_.out + ": " + e.what());
            }
            if (!schedules::check_config(pipeline_, k.unit, c, cp_).empty()) continue;
            const std::string text = schedules::config_to_json(k.unit, c).dump();
            if (!k.measured.insert(text).second) continue;
            add_score(k, r.median_ms, c);
            ++resumed;
        }
        if (resumed) log_ << "tune: resuming from " << resumed << " measurements in " << o_.out << "\n";
    }


    // A scheduled measurement pipeline of key `k` with configuration `c`.
    Candidate candidate(const KeyState &k, const UnitConfig &c) const {
        const int first = k.unit.first(), last = k.unit.last();
        const Graph *fused = &fused_;
        const TuneUnit unit = k.unit;
        const schedules::CpuParams cp = cp_;
        return [=] {
            UnitGraph g = unit_graph(*fused, first, last);
            codegen::LoweredPipeline p = codegen::lower(g.graph, g.shape, false);
            std::vector<schedules::OpKnobs> knobs = schedules::default_knobs(p, cp);
            TuneUnit mu = unit;
            if (mu.dense >= 0) mu.dense = mu.dense - first + g.offset;
            if (mu.dw >= 0) mu.dw = mu.dw - first + g.offset;
            schedules::set_config(knobs, mu, c);
            schedules::apply_knobs(p, cp, knobs);
            return p;
        };
    }

    Candidate baseline_candidate(const KeyState &k) const {
        const Graph *fused = &fused_;
        const int first = k.unit.first();
        const schedules::CpuParams cp = cp_;
        return [=] {
            UnitGraph g = baseline_graph(*fused, first);
            codegen::LoweredPipeline p = codegen::lower(g.graph, g.shape, false);
            schedules::apply_knobs(p, cp, schedules::default_knobs(p, cp));
            return p;
        };
    }

    // Share of the batch per key: its estimated part of the model's time.
    std::vector<int> shares(int room) const {
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
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
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

    int run_batch(int room) {
        struct Slot {
            size_t key;
            bool baseline;
            UnitConfig config;
        };
        std::vector<Slot> slots;
        std::vector<Candidate> batch;
        for (size_t i = 0; i < keys_.size(); ++i)
            if (!keys_[i].baseline_done && keys_[i].unit.first() > 0) {
                slots.push_back({i, true, {}});
                batch.push_back(baseline_candidate(keys_[i]));
            }
        const std::vector<int> s = shares(room);
        int proposed = 0;
        for (size_t i = 0; i < keys_.size(); ++i) {
            std::set<std::string> taken;
            for (int j = 0; j < s[i]; ++j) {
                UnitConfig c;
                if (!propose(keys_[i], pipeline_, cp_, rng_, taken, c)) break;
                slots.push_back({i, false, c});
                batch.push_back(candidate(keys_[i], c));
                ++proposed;
            }
        }
        if (proposed == 0) return 0;
        const BatchResult r = measure_batch(batch, mo_, *runner_);
        if (!o_.runner.empty() && !r.device_cpu.empty()) device_["cpu"] = r.device_cpu;
        for (size_t j = 0; j < slots.size(); ++j) {
            KeyState &k = keys_[slots[j].key];
            const Measurement &m = r.results[j];
            if (slots[j].baseline) {
                k.baseline_done = true;
                if (m.ok) {
                    k.baseline_ms = m.median_ms;
                    add_record(k, json{{"baseline", true}}, m);
                }
                continue;
            }
            const json cj = schedules::config_to_json(k.unit, slots[j].config);
            k.measured.insert(cj.dump());
            if (!m.ok) {
                log_ << "tune: " << k.name << ": a candidate failed (" << m.error.substr(0, 300) << ")\n";
                continue;
            }
            add_score(k, m.median_ms, slots[j].config);
            add_record(k, cj, m);
        }
        write();
        return proposed;
    }

    // The final pass: per op, its default and its fastest few configurations measured again
    // in one binary, interleaved. Batches ran at different times under different machine
    // load; these times compare like with like. The records get them (marked confirmed),
    // and --schedule prefers confirmed records: the chosen configuration has then beaten
    // the default side by side, or is the default.
    void confirm() {
        struct Slot {
            size_t key;
            UnitConfig config;
        };
        std::vector<Slot> slots;
        std::vector<Candidate> batch;
        for (size_t i = 0; i < keys_.size(); ++i) {
            KeyState &k = keys_[i];
            if (k.scored.empty()) continue;
            const json def = schedules::config_to_json(k.unit, k.default_config);
            slots.push_back({i, k.default_config});
            int others = 0;
            for (const auto &[ms, c] : k.scored)
                if (others < 3 && schedules::config_to_json(k.unit, c) != def) {
                    slots.push_back({i, c});
                    ++others;
                }
        }
        for (const Slot &s : slots) batch.push_back(candidate(keys_[s.key], s.config));
        if (batch.empty()) return;
        MeasureOptions mo = mo_;
        mo.runs = std::max(mo_.runs, 15);
        log_ << "tune: confirming: each op's default and fastest 3 configurations side by side ("
             << batch.size() << " candidates) ..." << std::endl;
        const BatchResult r = measure_batch(batch, mo, *runner_);
        for (KeyState &k : keys_) k.confirmed.clear();
        for (size_t j = 0; j < slots.size(); ++j) {
            const Measurement &m = r.results[j];
            if (!m.ok) continue;
            KeyState &k = keys_[slots[j].key];
            const json cj = schedules::config_to_json(k.unit, slots[j].config);
            bool found = false;
            for (auto &rec : records_)
                if (mine(rec) && rec.op == k.key && rec.config == cj) {
                    rec.median_ms = m.median_ms;
                    rec.runs = m.runs;
                    rec.when = schedules::utc_now();
                    rec.confirmed = found = true;
                }
            if (!found) {
                add_record(k, cj, m);
                records_.back().confirmed = true;
            }
            k.confirmed.emplace_back(m.median_ms, slots[j].config);
            if (j == 0 || slots[j - 1].key != slots[j].key) k.default_ms = m.median_ms;
        }
        for (KeyState &k : keys_) {
            if (k.confirmed.empty()) continue;
            std::stable_sort(k.confirmed.begin(), k.confirmed.end(),
                             [](const auto &a, const auto &b) { return a.first < b.first; });
            k.scored = k.confirmed;
        }
    }

    void add_record(const KeyState &k, const json &config, const Measurement &m) {
        schedules::TuningRecord rec;
        rec.device = device_;
        if (!rec.device.contains("features")) {
            json f = json::array();
            const std::string t = target_.to_string();
            size_t pos = 0;
            for (int part = 0; pos != std::string::npos; ++part) {
                const size_t next = t.find('-', pos);
                if (part >= 3) f.push_back(t.substr(pos, next == std::string::npos ? next : next - pos));
                pos = next == std::string::npos ? next : next + 1;
            }
            rec.device["features"] = f;
        }
        rec.target = target_.to_string();
        rec.op = k.key;
        rec.config = config;
        rec.median_ms = m.median_ms;
        rec.runs = m.runs;
        rec.when = schedules::utc_now();
        records_.push_back(std::move(rec));
    }

    void write() {
        // Records of a remote device measured before its CPU was known get its name now.
        for (auto &r : records_)
            if (r.device.at("cpu") == "unknown" && r.device.value("runner", "") == device_.value("runner", ""))
                r.device["cpu"] = device_.at("cpu");
        schedules::write_records(o_.out, records_);
    }

    void estimate(double &tuned, double &def) const {
        tuned = def = 0;
        for (const KeyState &k : keys_) {
            if (k.scored.empty()) continue;
            tuned += k.count * k.op_ms(k.best_ms());
            def += k.count * k.op_ms(k.default_ms > 0 ? k.default_ms : k.best_ms());
        }
    }

    void progress(int trials, double elapsed) {
        // The key that gained most recently is not tracked: show the heaviest one.
        const KeyState *top = nullptr;
        for (const KeyState &k : keys_)
            if (!k.scored.empty() && (!top || k.count * k.op_ms(k.best_ms()) > top->count * top->op_ms(top->best_ms())))
                top = &k;
        double tuned, def;
        estimate(tuned, def);
        log_ << "tune: trial " << trials;
        if (o_.trials > 0) log_ << "/" << o_.trials;
        if (top)
            log_ << "  op " << top->name << " (" << top->desc << ")  best " << fmt_ms(top->op_ms(top->best_ms()))
                 << " ms (default " << fmt_ms(top->op_ms(top->default_ms > 0 ? top->default_ms : top->best_ms()))
                 << ")";
        log_ << "  model est " << fmt_ms(tuned) << " ms (default " << fmt_ms(def) << ")  elapsed "
             << fmt_elapsed(elapsed) << std::endl;
    }

    void summary() {
        for (const KeyState &k : keys_) {
            if (k.scored.empty()) continue;
            log_ << "tune:   " << k.name << " x" << k.count << " (" << k.desc << "): "
                 << fmt_ms(k.op_ms(k.best_ms())) << " ms, default "
                 << (k.default_ms > 0 ? fmt_ms(k.op_ms(k.default_ms)) : std::string("?")) << " ms, "
                 << k.measured.size() << " measured; best "
                 << schedules::config_to_json(k.unit, k.scored.front().second).dump() << "\n";
        }
    }

    // The whole model, default schedule vs the records just written, on the same runner.
    void final_check() {
        std::vector<Candidate> both;
        const Graph *fused = &fused_;
        const InputShape shape = shape_;
        const Halide::Target target = target_;
        const std::string out = o_.out;
        both.push_back([=] {
            codegen::LoweredPipeline p = codegen::lower(*fused, shape, false);
            schedules::apply_default_schedule(p, target);
            return p;
        });
        both.push_back([=] {
            codegen::LoweredPipeline p = codegen::lower(*fused, shape, false);
            std::ostringstream quiet;
            schedules::apply_tuned_schedule(p, target, out, quiet);
            return p;
        });
        MeasureOptions mo = mo_;
        mo.runs = std::max(mo_.runs, 15);
        mo.block = 5;  // back-to-back runs, as `m1c bench` and applications run a model
        log_ << "tune: whole model check: compiling default and tuned ..." << std::endl;
        const BatchResult r = measure_batch(both, mo, *runner_);
        for (const auto &m : r.results)
            if (!m.ok) throw Error("tune: whole-model check failed: " + m.error.substr(0, 500));
        log_ << "tune: whole model: default " << fmt_ms(r.results[0].median_ms) << " ms, tuned "
             << fmt_ms(r.results[1].median_ms) << " ms (" << fmt_ms(r.results[0].median_ms / r.results[1].median_ms)
             << "x) on runner " << runner_->describe() << "\n";
        // Every op's record beats its default when measured alone; the whole can still
        // lose to noise or to interactions between ops (caches, thread pool).
        if (r.results[1].median_ms > r.results[0].median_ms * 1.02)
            log_ << "tune: warning: the tuned model measured slower than the default: noise "
                    "(re-run with more --runs on a quieter machine) or interactions between ops; "
                    "compare with `m1c bench --schedule " << o_.out << "`\n";
    }

    const Graph &fused_;
    InputShape shape_;
    TuneOptions o_;
    std::ostream &log_;
    std::mt19937 rng_;
    codegen::LoweredPipeline pipeline_;
    Halide::Target target_;
    schedules::CpuParams cp_;
    std::unique_ptr<Runner> runner_;
    MeasureOptions mo_;
    std::vector<schedules::OpKnobs> defaults_;
    json device_;
    std::vector<KeyState> keys_;
    std::map<std::string, size_t> index_;
    int units_ = 0;
    std::vector<schedules::TuningRecord> records_;
};

}  // namespace

void run_tune(const Graph &fused, const InputShape &shape, const TuneOptions &o, std::ostream &log) {
    if (o.trials <= 0 && o.seconds <= 0) throw Error("give a budget: --trials N and/or --time 10m");
    if (o.jobs < 1 || o.jobs > 256) throw Error("--jobs: expected 1 to 256");
    if (o.batch < 1 || o.batch > 1000) throw Error("--batch-size: expected 1 to 1000");
    if (o.runs < 1 || o.runs > 100000) throw Error("--runs: expected at least 1");
    TuneOptions opts = o;
    std::string scratch;
    if (opts.work_dir.empty()) {
        char tmpl[] = "/tmp/m1c-tune-XXXXXX";
        if (!::mkdtemp(tmpl)) throw Error("tune: cannot create a temporary directory");
        scratch = opts.work_dir = tmpl;
    }
    struct Remove {
        std::string dir;
        ~Remove() {
            std::error_code ec;
            if (!dir.empty()) fs::remove_all(dir, ec);
        }
    } remove{scratch};
    Tuner(fused, shape, opts, log).run();
}

}  // namespace m1c::tune
