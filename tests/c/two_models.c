/* Two m1c libraries in one C program, with HalideRuntime.h included between their headers
 * (no clash either way round): both run and both match their references.
 * Built with -DM1C_HEADER_A="a.h" -DM1C_NAME_A=a and the same for B.
 * Usage: two_models a_input.npy a_logits.npy b_input.npy b_logits.npy */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include M1C_HEADER_A
#include <HalideRuntime.h>
#include M1C_HEADER_B
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

static int check(const char *what, int status, const float *out, const float *ref, long n) {
    double max_diff = 0, max_ref = 0;
    long i;
    if (status != 0) {
        fprintf(stderr, "%s: run returned %d\n", what, status);
        return 1;
    }
    for (i = 0; i < n; ++i) {
        double d = fabs((double)out[i] - ref[i]);
        if (!(d <= max_diff)) max_diff = d;
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    printf("%s: max|diff|/max|logit| %.3g\n", what, max_diff / max_ref);
    return max_diff / max_ref <= 1e-4 ? 0 : 1;
}

int main(int argc, char **argv) {
    long na = 0, nra = 0, nb = 0, nrb = 0;
    float *ia, *ra, *ib, *rb, *oa, *ob;
    int bad = 0, round;
    if (argc != 5) return 2;
    ia = npy_read_f32(argv[1], &na);
    ra = npy_read_f32(argv[2], &nra);
    ib = npy_read_f32(argv[3], &nb);
    rb = npy_read_f32(argv[4], &nrb);
    if (!ia || !ra || !ib || !rb) return 1;
    if (na != CAT(M1C_NAME_A, _INPUT_SIZE) || nra != CAT(M1C_NAME_A, _OUTPUT_SIZE) ||
        nb != CAT(M1C_NAME_B, _INPUT_SIZE) || nrb != CAT(M1C_NAME_B, _OUTPUT_SIZE)) {
        fprintf(stderr, "fixture sizes do not match the libraries\n");
        return 1;
    }
    oa = (float *)malloc(sizeof(float) * nra);
    ob = (float *)malloc(sizeof(float) * nrb);
    CAT(M1C_NAME_A, _set_num_threads)(1);
    for (round = 0; round < 2; ++round) { /* interleaved, with different thread settings */
        bad |= check("A", CAT(M1C_NAME_A, _run)(ia, oa), oa, ra, nra);
        bad |= check("B", CAT(M1C_NAME_B, _run)(ib, ob), ob, rb, nrb);
    }
    return bad;
}
