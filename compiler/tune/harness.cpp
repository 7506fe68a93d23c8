// The measurement harness (C) and the parser of its output. See harness.h.
#include "tune/harness.h"

#include <cmath>
#include <set>
#include <sstream>

#include "core/error.h"

namespace m1c::tune {

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
)";

const char *kHarnessMain = R"(
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
#if M1C_N > 0
extern int halide_set_num_threads(int);
static double now_ms(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y);
}
static void measure(int runs, int threads, int block) {
    enum { N = M1C_N };
    static m1c_buffer in[N], out[N]; static m1c_dim din[N][4], dout[N][2];
    static double *times[N]; static int failed[N], done[N];
    int i, r;
    if (threads > 0) halide_set_num_threads(threads);
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
}
#endif
int main(int argc, char **argv) {
    int i;
    if (argc > 1 && !strcmp(argv[1], "--list")) {
        for (i = 0; i < M1C_N; ++i) printf("label\t%d\t%s\n", i, labels[i]);
        printf("end\t%d\n", M1C_N);
        return 0;
    }
    print_cpu();
#if M1C_N > 0
    {
        int runs = argc > 1 ? atoi(argv[1]) : 9, threads = argc > 2 ? atoi(argv[2]) : 1;
        int block = argc > 3 ? atoi(argv[3]) : 1;
        measure(runs < 1 ? 1 : runs, threads, block < 1 ? 1 : block);
    }
#endif
    printf("end\t%d\n", M1C_N);
    return 0;
}
)";

// A C string literal (labels are JSON; '?' escaped too: -std=c99 has trigraphs).
std::string c_string(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\' || c == '?') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out + "\"";
}

}  // namespace

std::string harness_source(const std::vector<HarnessEntry> &entries) {
    std::ostringstream c;
    c << kHarnessHead << "#define M1C_N " << entries.size() << "\n";
    for (const HarnessEntry &e : entries) c << "extern int " << e.symbol << "(m1c_buffer *, m1c_buffer *);\n";
    // Never empty arrays (not C): a probe has no candidates.
    c << "static const struct { m1c_fn fn; int n, h, w, k; } cands[] = {\n";
    for (const HarnessEntry &e : entries)
        c << "    {" << e.symbol << ", " << e.n << ", " << e.h << ", " << e.w << ", " << e.k << "},\n";
    if (entries.empty()) c << "    {0, 0, 0, 0, 0},\n";
    c << "};\nstatic const char *const labels[] = {\n";
    for (const HarnessEntry &e : entries) c << "    " << c_string(e.label) << ",\n";
    if (entries.empty()) c << "    \"\",\n";
    c << "};\n" << kHarnessMain;
    return c.str();
}

HarnessOutput parse_harness_output(const std::string &output, size_t slots, int runs) {
    HarnessOutput h;
    h.slots.resize(slots);
    std::vector<bool> seen(slots, false);
    bool have_cpu = false, ended = false;
    size_t count = 0;
    std::istringstream lines(output);
    std::string line;
    auto bad = [&](const std::string &why) {
        throw Error("unreadable measurement output (" + why + "): \"" + line.substr(0, 200) + "\"");
    };
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string tag;
        std::getline(f, tag, '\t');
        if (tag != "cpu" && tag != "cand" && tag != "fail" && tag != "end") continue;
        if (ended) bad("a line after the end line");
        if (tag == "cpu") {
            if (have_cpu) bad("a second cpu line");
            std::getline(f, h.cpu);
            if (h.cpu.empty()) bad("an empty CPU model");
            have_cpu = true;
            continue;
        }
        long long slot = -1;
        f >> slot;
        if (!f || slot < 0) bad("no slot number");
        if (tag == "end") {
            if (size_t(slot) != slots) bad("reports " + std::to_string(slot) + " candidates, not " + std::to_string(slots));
            ended = true;
            continue;
        }
        if (size_t(slot) >= slots) bad("slot " + std::to_string(slot) + " of " + std::to_string(slots));
        if (seen[size_t(slot)]) bad("slot " + std::to_string(slot) + " twice");
        seen[size_t(slot)] = true;
        ++count;
        HarnessResult &r = h.slots[size_t(slot)];
        if (tag == "fail") {
            f >> r.error_code;
            if (!f || r.error_code == 0) bad("no error code");
            continue;
        }
        f >> r.median_ms >> r.runs;
        std::string rest;
        f >> rest;
        if (!f.eof() || !rest.empty() || !std::isfinite(r.median_ms) || r.median_ms <= 0 || r.median_ms > 1e7)
            bad("not a positive time in ms and a count");
        if (r.runs != runs) bad(std::to_string(r.runs) + " runs, not " + std::to_string(runs));
        r.ok = true;
    }
    if (!have_cpu) throw Error("unreadable measurement output (no cpu line): " + output.substr(0, 300));
    if (!ended || count != slots)
        throw Error("measurement output ends early (" + std::to_string(count) + " of " + std::to_string(slots) +
                    " candidates, no end line): the binary was killed or the device lost? Output: " +
                    output.substr(0, 300));
    return h;
}

}  // namespace m1c::tune
