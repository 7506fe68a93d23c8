// The tuning driver: runners, the pipelined search loop, progress. See tuner.h.
#include "tune/tuner.h"

#include <algorithm>

#include "codegen/targets.h"
#include "core/error.h"
#include "knobs.h"
#include "search_space.h"
#include "tune/candidates.h"
#include "tune/report.h"

namespace m1c::tune {

using nlohmann::json;

Tuner::Tuner(const Graph &fused, const InputShape &shape, const TuneOptions &o, std::ostream &log)
    : fused_(fused), shape_(shape), o_(o), log_(log), rng_(o.seed), pipeline_(codegen::lower(fused, shape, false)),
      target_(codegen::parse_target(o.target)), cp_(schedules::cpu_params_for(target_)),
      search_(pipeline_, cp_, o.ops) {
    mo_.target = target_;
    mo_.cc = o.cc.empty() ? default_cc(target_) : o.cc;
    mo_.runs = o.runs;
    mo_.threads = o.threads;
    mo_.jobs = o.compile_jobs;
    mo_.work_dir = o.work_dir;
    std::vector<std::unique_ptr<Runner>> runners;
    if (o.runners.empty()) runners.push_back(local_runner());
    for (const std::string &t : o.runners) runners.push_back(command_runner(t));
    PoolOptions po;
    po.slots = o.slots;
    po.timeout_s = o.timeout;
    po.max_failures = o.max_failures;
    pool_ = std::make_unique<RunnerPool>(std::move(runners), po);
    // Default: no overlap on this machine (compiling would disturb its measurements); for
    // devices elsewhere two batches per slot, so that each one's next batch compiles while
    // it measures (with one, a device waits for the compile of the batch that follows).
    if (o_.jobs <= 0) o_.jobs = pool_->runner(0).local() ? 1 : 2 * int(pool_->size()) * o.slots;
}

double Tuner::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Tuner::run() {
    start_ = std::chrono::steady_clock::now();
    log_ << "tune: " << search_.keys().size() << " distinct ops (" << search_.units() << " in the model) for "
         << target_.to_string() << "; " << pool_->size() << " runner" << (pool_->size() == 1 ? "" : "s")
         << " x " << o_.slots << " slot" << (o_.slots == 1 ? "" : "s") << ", " << o_.jobs
         << " batch" << (o_.jobs == 1 ? "" : "es") << " in flight; budget "
         << (o_.trials > 0 ? std::to_string(o_.trials) + " trials" : std::string())
         << (o_.trials > 0 && o_.seconds > 0 ? ", " : "")
         << (o_.seconds > 0 ? fmt_elapsed(o_.seconds) : std::string()) << std::endl;
    if (pool_->runner(0).local() && o_.jobs > 1)
        log_ << "tune: note: --jobs " << o_.jobs << " on this machine: compiling runs while it measures, "
             << "so the times are noisier\n";
    probe();
    book_ = std::make_unique<RecordBook>(o_.out, device_, target_, o_.threads);
    const int resumed = search_.resume(book_->load(), [&](const auto &r) { return book_->mine(r); }, o_.out);
    if (resumed) log_ << "tune: resuming from " << resumed << " measurements in " << o_.out << "\n";
    search();
    if (!lost_runners_) confirm();
    book_->write();
    log_ << "tune: " << trials_done_ << " new measurements, " << book_->size() << " records in " << o_.out << " ("
         << fmt_elapsed(elapsed()) << ")\n";
    summary();
    if (lost_runners_)
        throw Error("tune: every runner was dropped (see the messages above); what was measured is in " + o_.out +
                    ": run again with the same --out to continue");
    if (o_.final_check) final_check();
}

// Every runner runs a binary without candidates first: it must work, and say which CPU
// it measures on. The first runner that answers sets the device; runners on another CPU
// are dropped (records are per device).
void Tuner::probe() {
    const BuiltBatch probe = build_probe(mo_);
    std::map<int, std::string> cpus;
    for (int i = 0; i < int(pool_->size()); ++i)
        submit_job(probe, "its probe", o_.timeout, i, [&cpus, i](const PoolDone &d) {
            if (d.ok) cpus[i] = d.result.device_cpu;
        });
    while (pool_->pending() > 0) collect(true);
    discard(probe);
    if (cpus.empty()) throw Error("tune: no runner could run a measurement binary (see the messages above)");
    const int first = cpus.begin()->first;
    device_cpu_ = cpus.begin()->second;
    for (const auto &[i, cpu] : cpus)
        if (cpu != device_cpu_)
            pool_->drop(i, "it measures on \"" + cpu + "\", runner " + pool_->runner(first).describe() +
                               " on \"" + device_cpu_ + "\"; tune one kind of device per run (and merge "
                               "the records with `m1c records merge`)");
    while (collect(false)) {
    }
    device_ = pool_->runner(0).local() ? schedules::host_device() : remote_device(device_cpu_, target_);
    log_ << "tune: measuring on \"" << device_cpu_ << "\" (" << pool_->alive() << " of " << pool_->size()
         << " runners)" << std::endl;
}

void Tuner::search() {
    while (true) {
        settle(next_seq_ - o_.jobs);
        while (collect(false)) {
        }
        if (pool_->alive() == 0) break;
        if (!budget_left(trials_)) break;
        int room = o_.batch;
        if (o_.trials > 0) room = std::min(room, o_.trials - trials_);
        BatchPlan plan = search_.propose(next_seq_, room, rng_);
        const bool exhausted = plan.proposed == 0;
        trials_ += plan.proposed;
        if (!plan.slots.empty()) submit(std::move(plan));
        if (exhausted) {
            log_ << "tune: every configuration of every op has been measured\n";
            break;
        }
    }
    settle(next_seq_ - 1);
    if (pool_->alive() == 0) lost_runners_ = true;
}

// Stops when the budget is spent or the next batch would likely overrun the time: the
// batches in flight come back at the rate batches have been coming back.
bool Tuner::budget_left(int trials) const {
    if (o_.trials > 0 && trials >= o_.trials) return false;
    if (o_.seconds <= 0) return true;
    const double per_batch = batches_done_ > 0 ? last_done_s_ / batches_done_ : 0;
    int in_flight = 0;
    for (const auto &[seq, b] : open_) in_flight += !b.done;
    return elapsed() + (in_flight + 0.5) * per_batch < o_.seconds;
}

void Tuner::submit(BatchPlan plan) {
    const int seq = plan.seq;
    OpenBatch &b = open_[seq];
    b.plan = std::move(plan);
    ++next_seq_;
    std::vector<Candidate> batch;
    std::vector<std::string> labels;
    for (const PlannedCandidate &s : b.plan.slots) {
        const KeyState &k = search_.keys()[s.key];
        if (s.baseline) {
            batch.push_back(baseline_candidate(fused_, k.unit, cp_));
            labels.push_back(candidate_label(k.key, json{{"baseline", true}}));
        } else {
            batch.push_back(unit_candidate(fused_, k.unit, s.config, cp_));
            labels.push_back(candidate_label(k.key, schedules::config_to_json(k.unit, s.config)));
        }
    }
    b.built = build_batch(batch, labels, mo_, "batch-" + std::to_string(seq));
    if (b.built.binary.empty()) {  // nothing compiled: done already
        PoolDone d;
        d.ok = true;
        d.result = compile_errors(b.built);
        batch_done(seq, d);
        return;
    }
    submit_job(b.built, "batch " + std::to_string(seq), o_.timeout, -1,
               [this, seq](const PoolDone &d) { batch_done(seq, d); });
}

void Tuner::submit_job(const BuiltBatch &built, const std::string &name, double timeout_s, int runner,
                       std::function<void(const PoolDone &)> handler) {
    PoolJob job;
    job.name = name;
    job.binary = built.binary;
    job.args = built.args;
    job.timeout_s = timeout_s;
    job.runner = runner;
    const std::string cpu = device_cpu_;
    job.read = [built, cpu](const std::string &out) {
        BatchResult r = read_results(built, out);
        if (!cpu.empty() && r.device_cpu != cpu)
            throw Error("it now measures on \"" + r.device_cpu + "\", not \"" + cpu + "\"");
        return r;
    };
    handlers_[pool_->submit(std::move(job))] = std::move(handler);
}

// Handles what the pool has returned (waiting for something with `wait`); false when
// there was nothing.
bool Tuner::collect(bool wait) {
    PoolDone d;
    std::vector<std::string> messages;
    const bool got = pool_->next(d, messages, wait);
    for (const std::string &m : messages) log_ << "tune: " << m << "\n";
    if (got) {
        auto it = handlers_.find(d.id);
        auto handler = std::move(it->second);
        handlers_.erase(it);
        handler(d);
    }
    log_.flush();
    return got || !messages.empty();
}

// A batch came back (or was given up): its measurements go to the records now; to the
// search when settle() reaches it.
void Tuner::batch_done(int seq, const PoolDone &d) {
    OpenBatch &b = open_.at(seq);
    b.done = true;
    b.result = d.ok ? d.result : compile_errors(b.built);
    ++batches_done_;
    last_done_s_ = elapsed();
    if (!d.ok) {
        log_ << "tune: batch " << seq << " given up (" << d.error << "); its " << b.plan.slots.size()
             << " candidates are not recorded\n";
    } else {
        trials_done_ += b.plan.proposed;
        for (size_t j = 0; j < b.plan.slots.size(); ++j) {
            const Measurement &m = b.result.results[j];
            if (!m.ok) continue;
            const PlannedCandidate &s = b.plan.slots[j];
            const KeyState &k = search_.keys()[s.key];
            book_->add(seq, k.key, s.baseline ? json{{"baseline", true}} : schedules::config_to_json(k.unit, s.config), m);
        }
        book_->write();
        progress(b, d.runner);
    }
    discard(b.built);
}

void Tuner::settle(int upto) {
    while (applied_ <= upto && applied_ < next_seq_) {
        auto it = open_.find(applied_);
        if (!it->second.done) {
            collect(true);
            continue;
        }
        search_.apply(it->second.plan, it->second.result, log_);
        open_.erase(it);
        ++applied_;
    }
}

void Tuner::progress(const OpenBatch &b, int runner) {
    const ModelEstimate e = estimate_model(search_.keys(), *book_);
    int in_flight = 0;
    for (const auto &[seq, o] : open_) in_flight += !o.done;
    log_ << "tune: trial " << trials_done_;
    if (o_.trials > 0) log_ << "/" << o_.trials;
    log_ << "  batch " << b.plan.seq << " on " << (runner >= 0 ? pool_->runner(runner).describe() : "none")
         << "  in flight " << in_flight;
    if (e.top)
        log_ << "  op " << e.top->name << " (" << e.top->desc << ")  best " << fmt_ms(e.top_best) << " ms (default "
             << fmt_ms(e.top_default) << ")";
    log_ << "  model est " << fmt_ms(e.tuned) << " ms (default " << fmt_ms(e.def) << ")  elapsed "
         << fmt_elapsed(elapsed()) << std::endl;
}

}  // namespace m1c::tune
