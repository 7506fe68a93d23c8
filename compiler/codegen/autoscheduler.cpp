#include "codegen/autoscheduler.h"

#include <algorithm>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "codegen/autoscheduler_plugin.h"
#include "core/error.h"

namespace m1c::codegen {

namespace {

// Bytes of the last-level cache from sysfs (index3, else the highest index), 0 if unknown.
uint64_t last_level_cache_bytes() {
    for (int index = 4; index >= 0; --index) {
        std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
        std::string s;
        if (!(f >> s) || s.empty()) continue;
        uint64_t v = std::strtoull(s.c_str(), nullptr, 10);
        const char unit = s.back();
        if (unit == 'K') v <<= 10;
        if (unit == 'M') v <<= 20;
        if (v) return v;
    }
    return 0;
}

// What the autoscheduler is told about the machine. HL_MACHINE_PARAMS (Halide's own
// variable, "cores,cache_bytes,balance") overrides; otherwise this machine's cores and
// last-level cache, and Halide's generic balance (40). The parallelism is a compile-time
// assumption: the schedule is fixed before the thread count is set at run time (like the
// default schedule, which splits for all cores too).
Halide::MachineParams machine_params() {
    if (const char *env = std::getenv("HL_MACHINE_PARAMS"); env && *env) {
        try {
            return Halide::MachineParams(std::string(env));
        } catch (const Halide::Error &e) {
            throw Error(std::string("HL_MACHINE_PARAMS=\"") + env +
                        "\": expected cores,cache_bytes,balance (" + e.what() + ")");
        }
    }
    const Halide::MachineParams generic = Halide::MachineParams::generic();
    const unsigned cores = std::thread::hardware_concurrency();
    const uint64_t llc = last_level_cache_bytes();
    return Halide::MachineParams(cores ? int(cores) : generic.parallelism,
                                 llc ? llc : generic.last_level_cache_size, generic.balance);
}

// Adams2019's beam search is slow on m1c's pipelines (S0: 136 Funcs): with Halide's default
// beam of 32 and 5 coarse-to-fine passes, the first pass alone took 11.5 minutes on S0 at
// 64x64 here (the whole search would take about an hour); the greedy search (beam 1, one
// pass) takes ~10 s. So m1c runs the greedy search unless HL_BEAM_SIZE says otherwise
// (HL_BEAM_SIZE=32: Halide's default). The plugin reads its variables (also
// HL_RANDOM_DROPOUT, HL_SEED, HL_NUM_PASSES, HL_WEIGHTS_DIR) when it runs.
constexpr const char *kDefaultBeam = "1";

// Adams2019 unrolls loops whose extent is only constant after bounds are clamped (e.g. over a
// zero-padded border): Halide's lowering, later, rejects that ("Can only unroll for loops
// over a constant extent", seen on the custom spec) unless HL_PERMIT_FAILED_UNROLL=1, which
// makes such a loop serial -- what Halide's own autoscheduler apps set. Both are set for the
// process (lowering reads the flag when the pipeline compiles) unless the user set them.
void default_adams_settings() {
    auto set_default = [](const char *name, const char *value) {
        const char *v = std::getenv(name);
        if (!v || !*v) setenv(name, value, 1);
    };
    set_default("HL_BEAM_SIZE", kDefaultBeam);
    set_default("HL_PERMIT_FAILED_UNROLL", "1");
}

std::string adams_settings() {
    auto get = [](const char *name, const char *fallback) {
        const char *v = std::getenv(name);
        return std::string(v && *v ? v : fallback);
    };
    return "HL_BEAM_SIZE=" + get("HL_BEAM_SIZE", kDefaultBeam) +
           ", HL_RANDOM_DROPOUT=" + get("HL_RANDOM_DROPOUT", "100") +
           ", cost model weights " + get("HL_WEIGHTS_DIR", "built in");
}

// Every autoscheduler needs to know how big the pipeline's inputs and output are. The input
// and the output have fixed, constrained shapes (lower.cpp); the estimates say the same.
void set_estimates(LoweredPipeline &p) {
    const InputShape &s = p.shape;
    p.input.dim(0).set_estimate(0, s.width);
    p.input.dim(1).set_estimate(0, s.height);
    p.input.dim(2).set_estimate(0, 3);
    p.input.dim(3).set_estimate(0, s.batch);
    if (p.weights.external())
        Halide::ImageParam(p.weights.input())
            .dim(0)
            .set_estimate(0, int(std::max<int64_t>(p.weights.blob_floats(), 1)));
    const std::vector<Halide::Var> args = p.output.args();
    if (args.size() != 2) throw Error("autoscheduler: the logits Func should be (class, batch)");
    p.output.set_estimate(args[0], 0, p.num_classes).set_estimate(args[1], 0, s.batch);
}

int count(const std::string &text, const std::string &what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

schedules::ScheduleReport apply_autoscheduler(LoweredPipeline &p, const Halide::Target &target,
                                              const std::string &name, std::ostream &log) {
    const std::string canonical = canonical_autoscheduler_name(name);
    load_autoscheduler_plugin(canonical);
    set_estimates(p);
    const Halide::MachineParams params = machine_params();
    const size_t funcs = Halide::Internal::find_transitive_calls(p.output.function()).size();
    if (canonical == "Adams2019") default_adams_settings();

    log << "m1c: autoscheduler " << canonical << " on " << funcs << " Funcs (machine "
        << params.to_string() << (canonical == "Adams2019" ? "; " + adams_settings() : "")
        << ") ..." << std::flush;
    const auto t0 = std::chrono::steady_clock::now();
    Halide::AutoSchedulerResults result;
    try {
        // Applies the schedule to the Funcs themselves, so the Pipeline that
        // compile_library / HostPipeline make from p.output afterwards compiles it.
        Halide::Pipeline pipeline(p.output);
        result = pipeline.auto_schedule(canonical, target, params);
    } catch (const Halide::Error &e) {
        log << " failed\n";
        throw Error("autoscheduler " + canonical + " failed: " + e.what());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ostringstream took;
    took.precision(1);
    took << std::fixed << seconds;
    log << " " << took.str() << " s\n";

    schedules::ScheduleReport report;
    report.name = "autoscheduler/" + canonical;
    report.ops.push_back(std::to_string(funcs) + " Funcs scheduled by Halide's " + canonical +
                         " in " + took.str() + " s");
    report.ops.push_back("machine params " + params.to_string() +
                         (canonical == "Adams2019" ? "; " + adams_settings() : ""));
    const std::string &src = result.schedule_source;
    report.ops.push_back(std::to_string(count(src, ".compute_root()")) + " compute_root, " +
                         std::to_string(count(src, ".compute_at(")) + " compute_at, " +
                         std::to_string(count(src, ".parallel(")) + " parallel, " +
                         std::to_string(count(src, ".vectorize(")) + " vectorize directives");
    // The full schedule, as C++, for whoever wants to read or reuse it.
    if (const char *path = std::getenv("M1C_AUTOSCHEDULE_SOURCE"); path && *path) {
        std::ofstream out(path);
        out << src;
        if (!out) throw Error(std::string("M1C_AUTOSCHEDULE_SOURCE=") + path + ": cannot write");
        report.ops.push_back(std::string("schedule source written to ") + path);
    }
    return report;
}

}  // namespace m1c::codegen
