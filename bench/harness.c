/* Timing harness for one m1c library, driven by bench/compare over a pipe. C99, only the
 * generated header (its wrappers are static inline). Built per library with
 *     cc -O2 -std=c99 -DM1C_HEADER="\"N.h\"" -DM1C_NAME=N -IDIR harness.c DIR/libN.a -lpthread -ldl -lm
 * Usage: harness [input.f32]   (raw float32 NCHW input; without it a fixed pseudo-random one)
 * Commands on stdin, one per line; each answers with one line on stdout:
 *     threads N   -> "ok"            N_set_num_threads(N)
 *     run K       -> K times in ms   K calls of N_run, each timed separately
 *     logits      -> the logits      (to check the library against the other systems)
 *     quit
 * With -DM1C_FEATURES (a backbone library, `m1c compile --features`): `run` times
 * N_run_features, and `logits` prints, per feature map, its sum and its largest |value|.
 * Errors go to stderr with exit status 1. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include M1C_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)

#ifdef M1C_FEATURES
#define M1C_HARNESS_OUTPUT_SIZE 1 /* no logits */
#else
#define M1C_HARNESS_OUTPUT_SIZE API(_OUTPUT_SIZE)
#endif

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    static char line[256];
    float *input = (float *)malloc(sizeof(float) * API(_INPUT_SIZE));
    float *logits = (float *)malloc(sizeof(float) * M1C_HARNESS_OUTPUT_SIZE);
    long i;
#ifdef M1C_FEATURES
    float *features[API(_NUM_FEATURES)];
    for (i = 0; i < API(_NUM_FEATURES); ++i)
        if (!(features[i] = (float *)malloc(sizeof(float) * API(_feature_size)((int)i)))) return 1;
#define M1C_HARNESS_RUN() API(_run_features)(input, features)
#else
#define M1C_HARNESS_RUN() API(_run)(input, logits)
#endif
    if (!input || !logits) return 1;
    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        if (!f || fread(input, sizeof(float), API(_INPUT_SIZE), f) != (size_t)API(_INPUT_SIZE)) {
            fprintf(stderr, "%s: cannot read %d floats\n", argv[1], (int)API(_INPUT_SIZE));
            return 1;
        }
        fclose(f);
    } else {
        unsigned s = 12345u;
        for (i = 0; i < API(_INPUT_SIZE); ++i) {
            s = s * 1664525u + 1013904223u;
            input[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        int n = 0;
        if (sscanf(line, "threads %d", &n) == 1) {
            API(_set_num_threads)(n);
            printf("ok\n");
        } else if (sscanf(line, "run %d", &n) == 1) {
            for (i = 0; i < n; ++i) {
                double t0 = now_ms();
                if (M1C_HARNESS_RUN() != API(_OK)) {
                    fprintf(stderr, "run failed: %s\n", API(_last_error)());
                    return 1;
                }
                printf(i ? " %.4f" : "%.4f", now_ms() - t0);
            }
            printf("\n");
        } else if (strncmp(line, "logits", 6) == 0) {
            if (M1C_HARNESS_RUN() != API(_OK)) {
                fprintf(stderr, "run failed: %s\n", API(_last_error)());
                return 1;
            }
#ifdef M1C_FEATURES
            for (i = 0; i < API(_NUM_FEATURES); ++i) {
                double sum = 0, mx = 0;
                size_t j, n = API(_feature_size)((int)i);
                for (j = 0; j < n; ++j) {
                    sum += features[i][j];
                    if (features[i][j] > mx || -features[i][j] > mx) mx = features[i][j] > 0 ? features[i][j] : -features[i][j];
                }
                printf(i ? " %.9g %.9g" : "%.9g %.9g", sum, mx);
            }
#else
            for (i = 0; i < API(_OUTPUT_SIZE); ++i) printf(i ? " %.7g" : "%.7g", logits[i]);
#endif
            printf("\n");
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            fprintf(stderr, "unknown command: %s", line);
            return 1;
        }
    }
    return 0;
}
