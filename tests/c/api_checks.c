/* Checks of the generated C API beyond correctness (C99, one library):
 *   - null pointers are refused with N_ERR_NULL_ARGUMENT and a message;
 *   - a runtime failure inside Halide (allocation failure, forced here by overriding
 *     Halide's weak halide_malloc) returns N_ERR_RUNTIME with a message, without aborting
 *     or printing, and the next run succeeds again;
 *   - 1 thread, 2 threads, M1C_NUM_THREADS and the default give identical logits;
 *   - the shape macros agree with the expected shape given on the command line.
 * Built with -DM1C_HEADER="name.h" -DM1C_NAME=name.
 * Usage: api_checks N C H W classes input.npy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include M1C_HEADER
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)

/* Halide's runtime functions are weak: this definition replaces the library's. */
static int fail_allocations = 0;
static int allocations = 0;
void *halide_malloc(void *user_context, size_t bytes);
void halide_free(void *user_context, void *ptr);
void *halide_malloc(void *user_context, size_t bytes) {
    void *p = NULL;
    (void)user_context;
    ++allocations;
    if (fail_allocations) return NULL;
    if (posix_memalign(&p, 128, bytes + 128) != 0) return NULL;
    return p;
}
void halide_free(void *user_context, void *ptr) {
    (void)user_context;
    free(ptr);
}

static int failures = 0;
#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "FAILED %s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);                 \
            fprintf(stderr, "\n");                        \
            ++failures;                                   \
        }                                                 \
    } while (0)

static int run_with(const float *input, float *out) {
    memset(out, 0, sizeof(float) * API(_OUTPUT_SIZE));
    return API(_run)(input, out);
}

int main(int argc, char **argv) {
    long count = 0;
    float *input, *a, *b;
    int status;
    if (argc != 7) {
        fprintf(stderr, "usage: %s N C H W classes input.npy\n", argv[0]);
        return 2;
    }
    CHECK(API(_INPUT_N) == atoi(argv[1]) && API(_INPUT_C) == atoi(argv[2]) &&
              API(_INPUT_H) == atoi(argv[3]) && API(_INPUT_W) == atoi(argv[4]) &&
              API(_NUM_CLASSES) == atoi(argv[5]),
          "shape macros %d %d %d %d %d", API(_INPUT_N), API(_INPUT_C), API(_INPUT_H),
          API(_INPUT_W), API(_NUM_CLASSES));
    CHECK(API(_INPUT_SIZE) == API(_INPUT_N) * 3 * API(_INPUT_H) * API(_INPUT_W), "input size");
    CHECK(API(_OUTPUT_SIZE) == API(_INPUT_N) * API(_NUM_CLASSES), "output size");
    input = npy_read_f32(argv[6], &count);
    if (!input || count != API(_INPUT_SIZE)) return 1;
    a = (float *)malloc(sizeof(float) * API(_OUTPUT_SIZE));
    b = (float *)malloc(sizeof(float) * API(_OUTPUT_SIZE));

    /* Null pointers. */
    status = API(_run)(NULL, a);
    CHECK(status == API(_ERR_NULL_ARGUMENT), "run(NULL, logits) returned %d", status);
    CHECK(strlen(API(_last_error)()) > 0, "no message after a null argument");
    status = API(_run)(input, NULL);
    CHECK(status == API(_ERR_NULL_ARGUMENT), "run(input, NULL) returned %d", status);
    status = API(_run)(NULL, NULL);
    CHECK(status != 0, "run(NULL, NULL) returned %d", status);

    /* Threads: explicit 1 and 2, environment, default -- all bitwise identical. */
    API(_set_num_threads)(1);
    status = run_with(input, a);
    CHECK(status == 0, "run with 1 thread returned %d: %s", status, API(_last_error)());
    API(_set_num_threads)(2);
    status = run_with(input, b);
    CHECK(status == 0, "run with 2 threads returned %d", status);
    CHECK(memcmp(a, b, sizeof(float) * API(_OUTPUT_SIZE)) == 0, "1 and 2 threads differ");
    API(_set_num_threads)(0);
    setenv("M1C_NUM_THREADS", "1", 1);
    status = run_with(input, b);
    CHECK(status == 0 && memcmp(a, b, sizeof(float) * API(_OUTPUT_SIZE)) == 0,
          "M1C_NUM_THREADS=1 run differs (%d)", status);
    setenv("M1C_NUM_THREADS", "not-a-number", 1);
    status = run_with(input, b);
    CHECK(status == 0 && memcmp(a, b, sizeof(float) * API(_OUTPUT_SIZE)) == 0,
          "run with a bad M1C_NUM_THREADS differs (%d)", status);
    unsetenv("M1C_NUM_THREADS");

    /* A failure inside the pipeline: no abort, an error code and a message. */
    CHECK(allocations > 0, "the pipeline made no heap allocation to fail (%d)", allocations);
    fail_allocations = 1;
    status = run_with(input, b);
    fail_allocations = 0;
    CHECK(status == API(_ERR_RUNTIME), "run with failing allocations returned %d", status);
    CHECK(strlen(API(_last_error)()) > 0, "no message after a runtime failure");
    fprintf(stderr, "runtime failure reported as: %s\n", API(_last_error)());
    status = run_with(input, b);
    CHECK(status == 0 && memcmp(a, b, sizeof(float) * API(_OUTPUT_SIZE)) == 0,
          "run after a failure returned %d or differs", status);

    printf("%s: %s\n", argv[0], failures ? "FAILED" : "all API checks passed");
    return failures ? 1 : 0;
}
