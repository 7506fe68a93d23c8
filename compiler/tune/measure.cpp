// Measurement binaries: candidates compiled to objects, the C harness, one link. See
// measure.h.
#include "tune/measure.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "codegen/targets.h"
#include "core/error.h"
#include "tune/harness.h"
#include "tune/runner.h"

namespace m1c::tune {

namespace fs = std::filesystem;

namespace {

struct Built {
    bool ok = false;
    std::string error;
    int n = 1, h = 0, w = 0, k = 0;
};

std::mutex runtime_mutex;

Halide::Target plain(const Halide::Target &t) { return t.without_feature(Halide::Target::UserContext); }

// The Halide runtime once per work directory and target.
fs::path runtime_object(const MeasureOptions &o) {
    const Halide::Target target = plain(o.target);
    const fs::path runtime = fs::path(o.work_dir) / ("runtime-" + target.to_string() + ".o");
    std::lock_guard<std::mutex> lock(runtime_mutex);
    std::error_code ec;
    fs::create_directories(o.work_dir, ec);
    if (!fs::exists(runtime)) Halide::compile_standalone_runtime(runtime.string(), target);
    return runtime;
}

std::vector<Built> compile_all(const std::vector<Candidate> &batch, const MeasureOptions &o, const fs::path &dir) {
    const Halide::Target target = plain(o.target).with_feature(Halide::Target::NoRuntime);
    std::vector<Built> built(batch.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i; (i = next++) < batch.size();) {
            Built &b = built[i];
            try {
                codegen::LoweredPipeline p = batch[i]();
                b.n = p.shape.batch;
                b.h = p.shape.height;
                b.w = p.shape.width;
                b.k = p.num_classes;
                Halide::Pipeline(p.output).compile_to_object(
                    (dir / ("cand" + std::to_string(i) + ".o")).string(), p.arguments(),
                    "m1c_cand_" + std::to_string(i), target);
                b.ok = true;
            } catch (const Halide::Error &e) {
                b.error = std::string("Halide: ") + e.what();
            } catch (const std::exception &e) {
                b.error = e.what();
            }
        }
    };
    std::vector<std::thread> threads;
    for (int j = 1; j < std::max(1, std::min<int>(o.jobs, int(batch.size()))); ++j) threads.emplace_back(worker);
    worker();
    for (auto &t : threads) t.join();
    return built;
}

void link(const BuiltBatch &b, const std::vector<HarnessEntry> &entries, const MeasureOptions &o) {
    const fs::path dir = b.dir, harness = dir / "harness.c";
    {
        std::ofstream out(harness, std::ios::trunc);
        out << harness_source(entries);
        if (!out) throw Error(harness.string() + ": write failed");
    }
    std::string cmd = shell_quote(o.cc) + " -O2 -std=c99 -o " + shell_quote(b.binary) + " " +
                      shell_quote(harness.string());
    for (size_t i : b.slots) cmd += " " + shell_quote((dir / ("cand" + std::to_string(i) + ".o")).string());
    if (!entries.empty()) cmd += " " + shell_quote(runtime_object(o).string()) + " -lpthread -ldl";
    cmd += " -lm";
    const CommandResult lr = run_shell(cmd);
    if (lr.status != 0)
        throw Error("tune: linking the measurement binary with " + o.cc + " failed: " + lr.err.substr(0, 2000));
    std::error_code ec;
    for (size_t i : b.slots) fs::remove(dir / ("cand" + std::to_string(i) + ".o"), ec);
}

BuiltBatch new_batch(const MeasureOptions &o, const std::string &name) {
    BuiltBatch b;
    b.dir = (fs::path(o.work_dir) / name).string();
    std::error_code ec;
    fs::remove_all(b.dir, ec);
    fs::create_directories(b.dir, ec);
    if (ec) throw Error("tune: cannot create " + b.dir + ": " + ec.message());
    b.runs = o.runs;
    b.args = {std::to_string(o.runs), std::to_string(o.threads), std::to_string(o.block)};
    return b;
}

}  // namespace

std::string default_cc(const Halide::Target &target) {
    const Halide::Target host = codegen::host_target();
    if (target.arch == host.arch && target.bits == host.bits && target.os == host.os) return "cc";
    if (target.arch == Halide::Target::ARM && target.bits == 64 && target.os == Halide::Target::Linux)
        return "aarch64-linux-gnu-gcc";
    throw Error("tune: no default C compiler for target " + target.to_string() +
                "; give --cc (a compiler that links executables for it)");
}

BuiltBatch build_batch(const std::vector<Candidate> &batch, const std::vector<std::string> &labels,
                       const MeasureOptions &o, const std::string &name) {
    BuiltBatch b = new_batch(o, name);
    const std::vector<Built> built = compile_all(batch, o, b.dir);
    std::vector<HarnessEntry> entries;
    b.errors.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
        if (!built[i].ok) {
            b.errors[i] = built[i].error;
            continue;
        }
        b.slots.push_back(i);
        entries.push_back({"m1c_cand_" + std::to_string(i), built[i].n, built[i].h, built[i].w, built[i].k,
                           i < labels.size() ? labels[i] : ""});
    }
    if (entries.empty()) return b;
    b.binary = (fs::path(b.dir) / "measure").string();
    link(b, entries, o);
    return b;
}

BuiltBatch build_probe(const MeasureOptions &o) {
    BuiltBatch b = new_batch(o, "probe");
    b.binary = (fs::path(b.dir) / "probe").string();
    link(b, {}, o);
    return b;
}

BatchResult read_results(const BuiltBatch &b, const std::string &output) {
    const HarnessOutput h = parse_harness_output(output, b.slots.size(), b.runs);
    BatchResult r = compile_errors(b);
    r.device_cpu = h.cpu;
    for (size_t s = 0; s < b.slots.size(); ++s) {
        Measurement &m = r.results[b.slots[s]];
        m.ok = h.slots[s].ok;
        m.median_ms = h.slots[s].median_ms;
        m.runs = h.slots[s].runs;
        if (!m.ok) m.error = "the candidate returned Halide error " + std::to_string(h.slots[s].error_code);
    }
    return r;
}

BatchResult compile_errors(const BuiltBatch &b) {
    BatchResult r;
    r.results.resize(b.errors.size());
    for (size_t i = 0; i < b.errors.size(); ++i) r.results[i].error = b.errors[i];
    return r;
}

void discard(const BuiltBatch &b) {
    std::error_code ec;
    if (!b.dir.empty()) fs::remove_all(b.dir, ec);
}

}  // namespace m1c::tune
