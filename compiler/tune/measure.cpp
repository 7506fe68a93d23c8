// Measurement binaries: candidates compiled to objects, a C harness, one link. See measure.h.
#include "tune/measure.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "codegen/targets.h"
#include "core/error.h"

namespace m1c::tune {

namespace fs = std::filesystem;

namespace {

// The harness declares the two structs of halide_buffer_t it fills itself: the cross
// compiler has no Halide include path, and the layout is Halide's stable C ABI.
const char *kHarnessHead = R"(#define _POSIX_C_SOURCE 200112L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef struct { uint8_t code, bits; uint16_t lanes; } m1c_type;
typedef struct { int32_t min, extent, stride; uint32_t flags; } m1c_dim;
typedef struct {
    uint64_t device; const void *device_interface; uint8_t *host; uint64_t flags;
    m1c_type type; int32_t dimensions; m1c_dim *dim; void *padding;
} m1c_buffer;
typedef int (*m1c_fn)(m1c_buffer *, m1c_buffer *);
extern int halide_set_num_threads(int);
)";

const char *kHarnessMain = R"(
static double now_ms(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y);
}
static void print_cpu(void) {
    FILE *f = fopen("/proc/cpuinfo", "r"); char line[512];
    char impl[64] = "", part[64] = "";
    if (f) {
        while (fgets(line, sizeof line, f)) {
            char *v = strchr(line, ':'); if (!v) continue; v++; while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            if (!strncmp(line, "model name", 10)) { printf("cpu\t%s\n", v); fclose(f); return; }
            if (!strncmp(line, "CPU implementer", 15) && !impl[0]) snprintf(impl, sizeof impl, "%s", v);
            if (!strncmp(line, "CPU part", 8) && !part[0]) snprintf(part, sizeof part, "%s", v);
        }
        fclose(f);
    }
    if (impl[0]) printf("cpu\tarm implementer %s part %s\n", impl, part); else printf("cpu\tunknown\n");
}
int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 9, threads = argc > 2 ? atoi(argv[2]) : 1, i, r;
    int block = argc > 3 ? atoi(argv[3]) : 1;
    enum { N = sizeof(cands) / sizeof(cands[0]) };
    static m1c_buffer in[N], out[N]; static m1c_dim din[N][4], dout[N][2];
    static double *times[N]; static int failed[N], done[N];
    if (runs < 1) runs = 1;
    if (block < 1) block = 1;
    if (threads > 0) halide_set_num_threads(threads);
    print_cpu();
    for (i = 0; i < N; ++i) {
        int n = cands[i].n, h = cands[i].h, w = cands[i].w, k = cands[i].k, j;
        size_t count = (size_t)n * 3 * h * w;
        float *x = malloc(count * sizeof(float)), *y = malloc((size_t)n * k * sizeof(float));
        for (j = 0; j < (int)count; ++j) x[j] = (float)((j * 7919 % 2001) - 1000) * 0.001f;
        m1c_dim a[4] = {{0, w, 1, 0}, {0, h, w, 0}, {0, 3, w * h, 0}, {0, n, w * h * 3, 0}};
        m1c_dim b[2] = {{0, k, 1, 0}, {0, n, k, 0}};
        memcpy(din[i], a, sizeof a); memcpy(dout[i], b, sizeof b);
        in[i].host = (uint8_t *)x; in[i].type.code = 2; in[i].type.bits = 32; in[i].type.lanes = 1;
        in[i].dimensions = 4; in[i].dim = din[i];
        out[i].host = (uint8_t *)y; out[i].type = in[i].type; out[i].dimensions = 2; out[i].dim = dout[i];
        times[i] = malloc(runs * sizeof(double));
    }
    /* Round -1 warms every candidate up. Then rounds visit the candidates in turn (noise
       hits all alike); a visit times `block` consecutive runs after one untimed run (block
       > 1: warm caches, as a model run back to back sees them). */
    for (r = -1; r < (runs + block - 1) / block; ++r)
        for (i = 0; i < N; ++i) {
            double t0; int rc, b;
            if (failed[i]) continue;
            if (r < 0 || block > 1) {
                rc = cands[i].fn(&in[i], &out[i]);
                if (rc) { failed[i] = rc; continue; }
                if (r < 0) continue;
            }
            for (b = 0; b < block && done[i] < runs; ++b) {
                t0 = now_ms(); rc = cands[i].fn(&in[i], &out[i]);
                if (rc) { failed[i] = rc; break; }
                times[i][done[i]++] = now_ms() - t0;
            }
        }
    for (i = 0; i < N; ++i) {
        if (failed[i]) { printf("fail\t%d\t%d\n", i, failed[i]); continue; }
        qsort(times[i], runs, sizeof(double), cmp);
        printf("cand\t%d\t%.6f\t%d\n", i, runs % 2 ? times[i][runs / 2]
                                        : 0.5 * (times[i][runs / 2 - 1] + times[i][runs / 2]), runs);
    }
    return 0;
}
)";

struct Built {
    bool ok = false;
    std::string error;
    int n = 1, h = 0, w = 0, k = 0;
};

std::mutex runtime_mutex;

}  // namespace

std::string default_cc(const Halide::Target &target) {
    const Halide::Target host = codegen::host_target();
    if (target.arch == host.arch && target.bits == host.bits && target.os == host.os) return "cc";
    if (target.arch == Halide::Target::ARM && target.bits == 64 && target.os == Halide::Target::Linux)
        return "aarch64-linux-gnu-gcc";
    throw Error("tune: no default C compiler for target " + target.to_string() +
                "; give --cc (a compiler that links executables for it)");
}

BatchResult measure_batch(const std::vector<Candidate> &batch, const MeasureOptions &o,
                          Runner &runner) {
    BatchResult result;
    result.results.resize(batch.size());
    if (batch.empty()) return result;
    const fs::path dir = o.work_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    const Halide::Target target = o.target.without_feature(Halide::Target::UserContext);

    // The Halide runtime once per work directory and target.
    const fs::path runtime = dir / ("runtime-" + target.to_string() + ".o");
    {
        std::lock_guard<std::mutex> lock(runtime_mutex);
        if (!fs::exists(runtime)) Halide::compile_standalone_runtime(runtime.string(), target);
    }

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
                    "m1c_cand_" + std::to_string(i), target.with_feature(Halide::Target::NoRuntime));
                b.ok = true;
            } catch (const Halide::Error &e) {
                b.error = std::string("Halide: ") + e.what();
            } catch (const std::exception &e) {
                b.error = e.what();
            }
        }
    };
    std::vector<std::thread> threads;
    for (int j = 1; j < std::max(1, std::min<int>(o.jobs, int(batch.size()))); ++j)
        threads.emplace_back(worker);
    worker();
    for (auto &t : threads) t.join();

    // The harness: a table of the candidates that compiled.
    std::ostringstream c;
    c << kHarnessHead;
    std::vector<size_t> index;  // harness slot -> batch index
    for (size_t i = 0; i < batch.size(); ++i)
        if (built[i].ok) {
            c << "extern int m1c_cand_" << i << "(m1c_buffer *, m1c_buffer *);\n";
            index.push_back(i);
        } else {
            result.results[i].error = built[i].error;
        }
    if (index.empty()) return result;
    c << "static const struct { m1c_fn fn; int n, h, w, k; } cands[] = {\n";
    for (size_t i : index)
        c << "    {m1c_cand_" << i << ", " << built[i].n << ", " << built[i].h << ", " << built[i].w
          << ", " << built[i].k << "},\n";
    c << "};\n" << kHarnessMain;
    const fs::path harness = dir / "harness.c", binary = dir / "measure";
    {
        std::ofstream out(harness, std::ios::trunc);
        out << c.str();
        if (!out) throw Error(harness.string() + ": write failed");
    }
    std::string link = shell_quote(o.cc) + " -O2 -std=c99 -o " + shell_quote(binary.string()) + " " +
                       shell_quote(harness.string());
    for (size_t i : index) link += " " + shell_quote((dir / ("cand" + std::to_string(i) + ".o")).string());
    link += " " + shell_quote(runtime.string()) + " -lpthread -ldl -lm";
    const CommandResult lr = run_shell(link);
    if (lr.status != 0)
        throw Error("tune: linking the measurement binary with " + o.cc + " failed: " +
                    lr.err.substr(0, 2000));

    const std::string out = runner.run(binary.string(), {std::to_string(o.runs), std::to_string(o.threads), std::to_string(o.block)});
    std::istringstream lines(out);
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string tag;
        std::getline(f, tag, '\t');
        if (tag == "cpu") {
            std::getline(f, result.device_cpu);
        } else if (tag == "cand" || tag == "fail") {
            size_t slot = 0;
            f >> slot;
            if (slot >= index.size()) continue;
            Measurement &m = result.results[index[slot]];
            if (tag == "cand") {
                f >> m.median_ms >> m.runs;
                m.ok = bool(f) && m.median_ms > 0;
                if (!m.ok) m.median_ms = 0, m.error = "unreadable measurement: " + line;
            } else {
                m.error = "the candidate returned a Halide error";
            }
            ++seen;
        }
    }
    if (seen == 0)
        throw Error("tune: runner " + runner.describe() + " printed no measurements (output: " +
                    out.substr(0, 500) + ")");
    for (size_t i = 0; i < built.size(); ++i) fs::remove(dir / ("cand" + std::to_string(i) + ".o"), ec);
    return result;
}

}  // namespace m1c::tune
