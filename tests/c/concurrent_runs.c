/* Two threads of the caller each run their own inferences on the same library at once
 * (N_run shares Halide's thread pool between them): both must get the reference logits.
 * Built with -DM1C_HEADER="name.h" -DM1C_NAME=name.
 * Usage: concurrent_runs input.npy logits.npy */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include M1C_HEADER
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)
#define RUNS_PER_THREAD 4

static const float *input;
static const float *reference;
static double max_ref;

/* Returns the number of runs whose logits were wrong or that failed. */
static void *worker(void *arg) {
    static float outputs[2][API(_OUTPUT_SIZE)];
    float *out = outputs[*(int *)arg];
    long bad = 0;
    int r, i;
    for (r = 0; r < RUNS_PER_THREAD; ++r) {
        double max_diff = 0;
        if (API(_run)(input, out) != 0) { ++bad; continue; }
        for (i = 0; i < API(_OUTPUT_SIZE); ++i) max_diff = fmax(max_diff, fabs(out[i] - reference[i]));
        if (max_diff > 1e-4 * max_ref) ++bad;
    }
    return (void *)bad;
}

int main(int argc, char **argv) {
    long n_in = 0, n_ref = 0, bad_total = 0;
    pthread_t threads[2];
    int ids[2] = {0, 1}, t, i;
    if (argc != 3) { fprintf(stderr, "usage: %s input.npy logits.npy\n", argv[0]); return 2; }
    input = npy_read_f32(argv[1], &n_in);
    reference = npy_read_f32(argv[2], &n_ref);
    if (!input || !reference || n_in != API(_INPUT_SIZE) || n_ref != API(_OUTPUT_SIZE)) {
        fprintf(stderr, "%s: fixture sizes do not match the library\n", argv[0]);
        return 2;
    }
    for (i = 0; i < n_ref; ++i) max_ref = fmax(max_ref, fabs(reference[i]));
    for (t = 0; t < 2; ++t)
        if (pthread_create(&threads[t], NULL, worker, &ids[t]) != 0) return 2;
    for (t = 0; t < 2; ++t) {
        void *bad = NULL;
        pthread_join(threads[t], &bad);
        bad_total += (long)bad;
    }
    printf("%s: %d concurrent runs, %ld wrong\n", argv[0], 2 * RUNS_PER_THREAD, bad_total);
    return bad_total ? 1 : 0;
}
