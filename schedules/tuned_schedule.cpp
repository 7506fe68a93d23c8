// Tuned schedules: the default knobs, with each tuning unit's knobs replaced by the fastest
// matching record (same op shape, same target class, and -- when the code runs on this
// machine's kind of CPU -- recorded on this CPU), measured with the build's thread count
// when the op has such records. Units without one keep the default template, and the log
// says which.
#include "tuned_schedule.h"

#include <cstdlib>
#include <map>
#include <tuple>

#include "codegen/targets.h"
#include "core/error.h"
#include "knobs.h"
#include "records.h"
#include "search_space.h"

namespace m1c::schedules {

namespace {

// How a record ranks for a build of `threads` threads (lower first): its thread count's
// distance from the build's (0, all cores, counts as farther than any number), then
// the count itself (never two counts mixed), then confirmed records (measured side by side
// with the default), then the fastest.
std::tuple<int, int, bool, double> rank(const TuningRecord &t, int threads) {
    const int distance = t.threads == threads ? 0
                         : (t.threads == 0 || threads == 0) ? 2048
                                                            : std::abs(t.threads - threads);
    return {distance, t.threads, !t.confirmed, t.median_ms};
}

std::string thread_words(int n) {
    return n == 0 ? "all cores" : std::to_string(n) + (n == 1 ? " thread" : " threads");
}

}  // namespace

ScheduleReport apply_tuned_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                    const std::string &records_file, std::ostream &log, int threads) {
    std::vector<TuningRecord> records;
    try {
        records = read_records(records_file);
    } catch (const Error &e) {
        throw Error(std::string("--schedule ") + e.what());
    }
    const CpuParams cp = cpu_params_for(target);
    std::vector<OpKnobs> knobs = default_knobs(p, cp);

    // Code for this machine's arch and OS is taken to run here: only this CPU's records fit.
    // Cross targets (a board, a phone) accept records from any device of that target.
    const Halide::Target host = codegen::host_target();
    const bool runs_here = host.arch == target.arch && host.bits == target.bits && host.os == target.os;
    const std::string here = runs_here ? host_device().at("cpu").get<std::string>() : "";

    // The best usable record per op key.
    std::map<std::string, size_t> best;
    size_t usable = 0;
    for (size_t i = 0; i < records.size(); ++i) {
        const TuningRecord &r = records[i];
        if (!same_target_class(r.target, target)) continue;
        if (r.config.contains("baseline")) continue;  // the producer + head alone (tune)
        if (runs_here && r.device.at("cpu").get<std::string>() != here) continue;
        ++usable;
        const std::string key = r.op.dump();
        auto it = best.find(key);
        if (it == best.end() || rank(r, threads) < rank(records[it->second], threads)) best[key] = i;
    }
    if (usable == 0)
        log << "m1c: --schedule " << records_file << ": no record for this device"
            << (runs_here ? " (" + here + ")" : "") << " and target class " << cp.name
            << "; every op falls back to the default template\n";

    ScheduleReport report;
    report.name = "tuned/" + cp.name;
    std::vector<std::string> fallback, other_threads;
    int tuned = 0;
    const std::vector<TuneUnit> units = tune_units(p);
    for (const TuneUnit &u : units) {
        auto it = best.find(unit_key(p, u).dump());
        if (it == best.end()) {
            fallback.push_back(unit_name(p, u) + " (" + describe_unit(p, u) + ")");
            continue;
        }
        const std::string where = "--schedule " + records_file + ": record " + std::to_string(it->second) +
                                  " (op " + describe_unit(p, u) + ")";
        UnitConfig c;
        try {
            c = config_from_json(u, records[it->second].config);
        } catch (const Error &e) {
            throw Error(where + ": " + e.what());
        }
        const std::string bad = check_config(p, u, c, cp);
        if (!bad.empty()) throw Error(where + ": illegal knob value: " + bad);
        set_config(knobs, u, c);
        ++tuned;
        if (records[it->second].threads != threads)
            other_threads.push_back(unit_name(p, u) + " (" + thread_words(records[it->second].threads) + ")");
    }
    if (!fallback.empty() && usable > 0) {
        log << "m1c: --schedule " << records_file << ": no matching record for " << fallback.size()
            << " of " << units.size() << " ops; default template for:";
        for (const std::string &f : fallback) log << " " << f << ";";
        log << "\n";
    }
    if (!other_threads.empty()) {
        log << "m1c: --schedule " << records_file << ": no record measured with "
            << thread_words(threads) << " for " << other_threads.size()
            << " ops; records of another thread count for:";
        for (const std::string &o : other_threads) log << " " << o << ";";
        log << "\n";
    }
    log << "m1c: --schedule " << records_file << ": " << tuned << " of " << units.size()
        << " ops tuned (for " << thread_words(threads) << ")\n";
    if (tuned == 0) report.name = "default/" + cp.name;  // nothing matched: say what ran
    report.ops = apply_knobs(p, cp, knobs);
    return report;
}

}  // namespace m1c::schedules
