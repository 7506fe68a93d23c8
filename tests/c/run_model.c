/* Runs one m1c library on a reference input and compares with reference logits, as a user
 * program would (C99, only the generated header). Built once per library with
 *   -DM1C_HEADER="name.h" -DM1C_NAME=name [-DM1C_EXTERNAL]
 * Usage: run_model input.npy logits.npy [--weights N.weights] [--repeat K] [--expect-mismatch]
 *                  [--cosine MIN] [--save out.npy] [--expect-target TEXT]
 * Prints max|diff| / max|logit| and exits 1 when it exceeds 1e-4 (or on any error).
 * --cosine MIN (int8 libraries): the verdict is instead the cosine similarity of each batch
 * item's logits with the reference's, which must be at least MIN.
 * --expect-mismatch inverts the verdict (for a deliberately wrong reference): exit 0 only
 * when the run succeeded and the comparison found a difference above the tolerance.
 * --save writes the logits (N x classes) as .npy.
 * Prints the target N_run uses here (N_selected_target); --expect-target TEXT fails unless it
 * contains TEXT (e.g. "avx2" for a multi-target library under qemu -cpu Haswell). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include M1C_HEADER
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)

#define TOLERANCE 1e-4

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#ifdef M1C_EXTERNAL
static void *read_file(const char *path, size_t *bytes) {
    void *buf;
    long size;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *bytes = (size_t)size;
    return buf;
}
#endif

int main(int argc, char **argv) {
    long n_in = 0, n_ref = 0, i;
    float *input, *ref, *logits;
    double max_diff = 0, max_ref = 0, t0, ms;
    int repeat = 1, r, status, expect_mismatch = 0, within;
    double min_cosine = -1, worst_cosine = 1;
    const char *weights_path = NULL, *save_path = NULL, *expect_target = NULL;
    if (argc < 3) {
        fprintf(stderr, "usage: %s input.npy logits.npy [--weights FILE] [--repeat K] [--expect-mismatch]\n",
                argv[0]);
        return 2;
    }
    for (i = 3; i < argc; ++i) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--weights") == 0 && i + 1 < argc) {
            weights_path = argv[++i];
        } else if (strcmp(argv[i], "--cosine") == 0 && i + 1 < argc) {
            min_cosine = atof(argv[++i]);
        } else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc) {
            save_path = argv[++i];
        } else if (strcmp(argv[i], "--expect-target") == 0 && i + 1 < argc) {
            expect_target = argv[++i];
        } else if (strcmp(argv[i], "--expect-mismatch") == 0) {
            expect_mismatch = 1;
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (repeat < 1) repeat = 1;
#ifndef M1C_EXTERNAL
    if (weights_path) {
        fprintf(stderr, "--weights: this library embeds its weights\n");
        return 2;
    }
#endif
    input = npy_read_f32(argv[1], &n_in);
    ref = npy_read_f32(argv[2], &n_ref);
    if (!input || !ref) return 1;
    if (n_in != API(_INPUT_SIZE) || n_ref != API(_OUTPUT_SIZE)) {
        fprintf(stderr, "shape mismatch: input %ld floats (library takes %d), logits %ld (library writes %d)\n",
                n_in, (int)API(_INPUT_SIZE), n_ref, (int)API(_OUTPUT_SIZE));
        return 1;
    }
#ifdef M1C_EXTERNAL
    {
        size_t bytes = 0;
        void *blob = weights_path ? read_file(weights_path, &bytes) : NULL;
        status = API(_run)(input, ref); /* before init: must refuse */
        if (status != API(_ERR_NOT_INITIALIZED)) {
            fprintf(stderr, "run before init returned %d\n", status);
            return 1;
        }
        if (!blob) {
            fprintf(stderr, "cannot read the weights file (--weights)\n");
            return 1;
        }
        status = API(_init)(blob, bytes - 4); /* truncated: must refuse */
        if (status != API(_ERR_BAD_WEIGHTS)) {
            fprintf(stderr, "init with a truncated blob returned %d\n", status);
            return 1;
        }
        ((unsigned char *)blob)[30] ^= 1; /* the recorded SHA-256 of another compile */
        status = API(_init)(blob, bytes);
        ((unsigned char *)blob)[30] ^= 1;
        if (status != API(_ERR_BAD_WEIGHTS)) {
            fprintf(stderr, "init with another compile's fingerprint returned %d\n", status);
            return 1;
        }
        if (API(_init)(blob, bytes) != API(_OK)) {
            fprintf(stderr, "init failed: %s\n", API(_last_error)());
            return 1;
        }
    }
#endif
    printf("%s: selected target %s (of %d)\n", argv[0], API(_selected_target)(), (int)API(_TARGET_COUNT));
    if (expect_target && !strstr(API(_selected_target)(), expect_target)) {
        fprintf(stderr, "the selected target does not contain \"%s\"\n", expect_target);
        return 1;
    }
    logits = (float *)malloc(sizeof(float) * API(_OUTPUT_SIZE));
    t0 = now_ms();
    for (r = 0; r < repeat; ++r) {
        status = API(_run)(input, logits);
        if (status != API(_OK)) {
            fprintf(stderr, "run failed (%d): %s\n", status, API(_last_error)());
            return 1;
        }
    }
    ms = (now_ms() - t0) / repeat;
    for (i = 0; i < n_ref; ++i) {
        double d = fabs((double)logits[i] - ref[i]);
        if (!(d <= max_diff)) max_diff = d; /* NaN counts as a difference */
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    for (r = 0; r < API(_INPUT_N); ++r) {
        const float *a = logits + (long)r * API(_NUM_CLASSES), *b = ref + (long)r * API(_NUM_CLASSES);
        double ab = 0, aa = 0, bb = 0, c;
        for (i = 0; i < API(_NUM_CLASSES); ++i) {
            ab += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
        if (!(c >= worst_cosine)) worst_cosine = c; /* NaN counts as the worst */
    }
    if (save_path && !npy_write_f32(save_path, logits, API(_INPUT_N), API(_NUM_CLASSES))) return 1;
    if (min_cosine >= 0) {
        within = worst_cosine >= min_cosine;
        printf("%s: %ld logits, cosine similarity (worst item) %.6f (at least %.4f): %s; max|diff| / "
               "max|logit| %.3g; %.2f ms/run\n",
               argv[0], n_ref, worst_cosine, min_cosine, within ? "within tolerance" : "MISMATCH",
               max_diff / max_ref, ms);
    } else {
        within = max_diff / max_ref <= TOLERANCE;
        printf("%s: %ld logits, max|diff| %.3g, max|logit| %.3g, ratio %.3g (limit %.0e): %s; %.2f ms/run\n",
               argv[0], n_ref, max_diff, max_ref, max_diff / max_ref, TOLERANCE,
               within ? "within tolerance" : "MISMATCH", ms);
    }
    if (expect_mismatch) {
        printf("%s\n", within ? "FAIL: a mismatch was expected" : "PASS: the mismatch was detected");
        return within ? 1 : 0;
    }
    return within ? 0 : 1;
}
