/* MobileOne-S0 the firmware way: a library built with `m1c compile --firmware` (here by
 * CMake's m1c_add_library(... FIRMWARE)), its weights compiled in, all memory static:
 *
 *     static unsigned char arena[S0_WORKSPACE_BYTES] __attribute__((aligned(64)));
 *     S0_run_in(input, logits, arena);
 *
 * S0_run_in calls no malloc/free and creates no thread; the arena size is a compile-time
 * constant planned by m1c. This demo runs on Linux: it reads the input image tensor from a
 * .npy file (1x3x224x224 float32, ImageNet-normalised) or makes a test pattern, prints the
 * top-5 classes and, given reference logits (.npy), compares:
 *     firmware_s0 [input.npy [reference_logits.npy [tolerance]]]
 * Exit status 0 when the run succeeded (and matched the reference within tolerance,
 * default 1e-4 x max|logit|). C99; nothing here allocates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "S0.h"

#ifdef M1C_EXAMPLE_GUARD /* CI: abort if anything calls the heap or makes a thread */
#include "no_heap_guard.h"
#define GUARD_ON() no_heap_guard_arm()
#define GUARD_OFF() no_heap_guard_disarm()
#else
#define GUARD_ON() ((void)0)
#define GUARD_OFF() ((void)0)
#endif

/* Everything the network touches: static, sized at compile time. */
static unsigned char arena[S0_WORKSPACE_BYTES] __attribute__((aligned(64)));
static float input[S0_INPUT_SIZE];
static float logits[S0_OUTPUT_SIZE];
static float reference[S0_OUTPUT_SIZE];

/* Reads `count` float32 values from a little-endian .npy file into `out` (no allocation). */
static int read_npy(const char *path, float *out, long count) {
    unsigned char pre[10];
    char header[512];
    unsigned len;
    long n = 1;
    const char *shape;
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "%s: cannot open\n", path), 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) goto bad;
    len = pre[8] | (pre[9] << 8);
    if (len >= sizeof header || fread(header, 1, len, f) != len) goto bad;
    header[len] = '\0';
    if (!strstr(header, "'descr': '<f4'") || !strstr(header, "'fortran_order': False")) goto bad;
    shape = strstr(header, "'shape': (");
    if (!shape) goto bad;
    for (shape += 10; *shape && *shape != ')';) {
        char *end;
        long d = strtol(shape, &end, 10);
        if (end == shape) break;
        n *= d;
        for (shape = end; *shape == ',' || *shape == ' ';) ++shape;
    }
    if (n != count || fread(out, sizeof(float), (size_t)count, f) != (size_t)count) goto bad;
    fclose(f);
    return 1;
bad:
    fprintf(stderr, "%s: not a float32 .npy file of %ld values\n", path, count);
    fclose(f);
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    const double tolerance = argc > 3 ? atof(argv[3]) : 1e-4;
    double t0, ms, max_diff = 0, max_ref = 0;
    int status, i, k, top[5], n_top = 0;

    if (argc > 1) {
        if (!read_npy(argv[1], input, S0_INPUT_SIZE)) return 1;
    } else {
        for (i = 0; i < S0_INPUT_SIZE; ++i) input[i] = (float)sin(0.001 * i); /* a test pattern */
    }
    printf("MobileOne-S0, firmware build: workspace %lu bytes (static arena), %d-class logits\n",
           (unsigned long)S0_workspace_bytes(), S0_NUM_CLASSES);

    t0 = now_ms();
    GUARD_ON();
    status = S0_run_in(input, logits, arena);
    GUARD_OFF();
    ms = now_ms() - t0;
    if (status != S0_OK) {
        fprintf(stderr, "S0_run_in failed (%d): %s\n", status, S0_last_error());
        return 1;
    }
    printf("inference: %.2f ms (one thread)\ntop-5:", ms);
    for (i = 0; i < S0_NUM_CLASSES; ++i) { /* insertion into the 5 best so far */
        if (n_top == 5 && !(logits[i] > logits[top[4]])) continue;
        k = n_top < 5 ? n_top++ : 4;
        for (; k > 0 && logits[top[k - 1]] < logits[i]; --k) top[k] = top[k - 1];
        top[k] = i;
    }
    for (k = 0; k < n_top; ++k) printf(" class %d (%.3f)", top[k], logits[top[k]]);
    printf("\n");

    if (argc > 2) {
        if (!read_npy(argv[2], reference, S0_OUTPUT_SIZE)) return 1;
        for (i = 0; i < S0_OUTPUT_SIZE; ++i) {
            double d = fabs((double)logits[i] - reference[i]);
            if (!(d <= max_diff)) max_diff = d; /* NaN counts */
            if (fabs(reference[i]) > max_ref) max_ref = fabs(reference[i]);
        }
        printf("vs reference: max|diff| %.3g, max|logit| %.3g, ratio %.3g (limit %.0e): %s\n",
               max_diff, max_ref, max_diff / max_ref, tolerance,
               max_diff / max_ref <= tolerance ? "match" : "MISMATCH");
        if (!(max_diff / max_ref <= tolerance)) return 1;
    }
    return 0;
}
