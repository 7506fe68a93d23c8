/* Runs one m1c backbone library (--features) on a reference input and compares every
 * feature map with PyTorch's (forward hooks on the stages), as a user program would (C99,
 * only the generated header). Built with -DM1C_HEADER="name.h" -DM1C_NAME=name
 * [-DM1C_FIRMWARE] [-DM1C_MIN_COSINE=0.99]. Usage: run_features input.npy ref0.npy ref1.npy ...
 * Checks N_NUM_FEATURES against the references given and N_feature_size(i) against each
 * reference's size; prints max|diff| / max|ref| and the cosine similarity per feature; exits
 * 1 above 1e-4 (float32), or with M1C_MIN_COSINE (int8 against PyTorch's float32) below that
 * cosine. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include M1C_HEADER
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)

int main(int argc, char **argv) {
    long n_in = 0, n_ref, j;
    int i, status, failed = 0;
    float *input, *features[API(_NUM_FEATURES)];
    if (argc != 2 + API(_NUM_FEATURES)) {
        fprintf(stderr, "expected the input and %d reference files\n", API(_NUM_FEATURES));
        return 1;
    }
    input = npy_read_f32(argv[1], &n_in);
    if (!input || n_in != API(_INPUT_SIZE)) return 1;
    for (i = 0; i < API(_NUM_FEATURES); ++i) features[i] = (float *)malloc(API(_feature_size)(i) * sizeof(float));
    if (API(_feature_size)(API(_NUM_FEATURES)) != 0 || API(_feature_size)(-1) != 0) return 1;
#ifdef M1C_FIRMWARE
    {
        void *workspace = NULL;
        if (posix_memalign(&workspace, API(_WORKSPACE_ALIGNMENT), API(_WORKSPACE_BYTES)) != 0) return 1;
        status = API(_run_features_in)(input, features, workspace);
        if (status == 0 && API(_run_features_in)(input, NULL, workspace) != API(_ERR_NULL_ARGUMENT)) return 1;
        free(workspace);
    }
#else
    status = API(_run_features)(input, features);
    if (status == 0 && API(_run_features)(input, NULL) != API(_ERR_NULL_ARGUMENT)) return 1;
#endif
    if (status != 0) {
        fprintf(stderr, "run failed: %d %s\n", status, API(_last_error)());
        return 1;
    }
    for (i = 0; i < API(_NUM_FEATURES); ++i) {
        double diff = 0, mx = 0, dot = 0, gg = 0, rr = 0, cosine;
        float *ref = npy_read_f32(argv[2 + i], &n_ref);
        if (!ref || (size_t)n_ref != API(_feature_size)(i)) {
            fprintf(stderr, "feature %d: reference has %ld floats, the library %lu\n", i, n_ref,
                    (unsigned long)API(_feature_size)(i));
            return 1;
        }
        for (j = 0; j < n_ref; ++j) {
            double d = fabs((double)features[i][j] - ref[j]);
            if (d > diff) diff = d;
            if (fabs(ref[j]) > mx) mx = fabs(ref[j]);
            dot += (double)features[i][j] * ref[j];
            gg += (double)features[i][j] * features[i][j];
            rr += (double)ref[j] * ref[j];
        }
        cosine = gg > 0 && rr > 0 ? dot / sqrt(gg * rr) : 0;
        printf("feature %d: max|diff|/max|ref| = %.3g, cosine %.5f\n", i, mx > 0 ? diff / mx : diff, cosine);
#ifdef M1C_MIN_COSINE
        if (!(cosine >= M1C_MIN_COSINE)) failed = 1;
#else
        if (!(diff <= 1e-4 * mx)) failed = 1;
#endif
        free(ref);
    }
    return failed;
}
