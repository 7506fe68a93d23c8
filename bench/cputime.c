/* CPU-time timing of one backbone library (m1c compile --features), for A/B comparisons of
 * schedules on a machine shared with other work: the process CPU time of each call (not
 * the wall time, which counts the time other processes take the core), on one thread.
 *     cc -O2 -std=c99 '-DM1C_HEADER="N.h"' -DM1C_NAME=N -IDIR bench/cputime.c DIR/libN.a -lpthread -ldl -lm
 *     ./a.out [runs]   -> "min_cpu_ms median_cpu_ms min_wall_ms checksum_of_all_maps"
 * (used for README's "Dilated depthwise schedules, measured": run the builds interleaved,
 * compare the medians of min_cpu_ms; equal checksums mean the same maps). */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include M1C_HEADER
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)
static double t(clockid_t c) { struct timespec ts; clock_gettime(c, &ts); return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    int K = argc > 1 ? atoi(argv[1]) : 10, i, j;
    if (K < 1 || K > 1000) K = K < 1 ? 1 : 1000;
    double cpu[1000], wall = 1e9, sum = 0;
    float *in = malloc(sizeof(float) * API(_INPUT_SIZE)), *f[API(_NUM_FEATURES)];
    srand(1); for (j = 0; j < (int)API(_INPUT_SIZE); ++j) in[j] = (float)rand() / RAND_MAX - 0.5f;
    for (i = 0; i < API(_NUM_FEATURES); ++i) f[i] = malloc(sizeof(float) * API(_feature_size)(i));
    API(_set_num_threads)(1);
    API(_run_features)(in, f); API(_run_features)(in, f);
    for (i = 0; i < K; ++i) {
        double c0 = t(CLOCK_PROCESS_CPUTIME_ID), w0 = t(CLOCK_MONOTONIC);
        API(_run_features)(in, f);
        cpu[i] = t(CLOCK_PROCESS_CPUTIME_ID) - c0; if (t(CLOCK_MONOTONIC) - w0 < wall) wall = t(CLOCK_MONOTONIC) - w0;
    }
    for (i = 0; i < API(_NUM_FEATURES); ++i) for (j = 0; j < (int)API(_feature_size)(i); ++j) sum += f[i][j];
    qsort(cpu, K, sizeof(double), cmp);
    printf("%.3f %.3f %.3f %.6e\n", cpu[0], cpu[K / 2], wall, sum);
    return 0;
}
