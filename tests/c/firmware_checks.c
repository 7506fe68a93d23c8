/* Checks a firmware m1c library (m1c compile --firmware) as firmware would use it. Built with
 *   -DM1C_HEADER="name.h" -DM1C_NAME=name, linked with no_heap_guard.c and
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,
 *   --wrap=aligned_alloc,--wrap=pthread_create
 * Usage: firmware_checks input.npy logits.npy [--tolerance T] [--repeat K] [--expect-target TEXT]
 * Every call into the library runs with the guard armed: a heap or thread call aborts.
 *   1. null input/logits/workspace -> ERR_NULL_ARGUMENT; misaligned workspace -> ERR_BAD_WORKSPACE
 *   2. a workspace of exactly N_WORKSPACE_BYTES between two inaccessible pages, filled with
 *      garbage: the logits match the reference (max|diff| <= T x max|logit|, T = 1e-4 unless
 *      given); a second run in the dirty workspace gives the same logits bit for bit
 *   3. N_run_in_sized with N_WORKSPACE_BYTES - 64 bytes, again ending at an inaccessible
 *      page: ERR_WORKSPACE_TOO_SMALL, no access outside
 * Prints the stack depth the run used (stack painting) and the time per run, and the target
 * N_run_in uses here (N_selected_target): --expect-target TEXT fails unless it contains TEXT
 * (multi-target libraries). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include M1C_HEADER
#include "no_heap_guard.h"
#include "npy.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(x) CAT(M1C_NAME, x)

#define STACK_PROBE (2u << 20) /* bytes of stack painted below main's frame */

static int failures = 0;

static void expect(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* `bytes` of memory whose end touches an inaccessible page (and whose start follows one):
 * any access outside faults. `bytes` is rounded to 64 and must stay 64-byte aligned. */
static unsigned char *fenced(size_t bytes, void **map, size_t *map_bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t body = (bytes + page - 1) / page * page;
    unsigned char *m;
    *map_bytes = body + 2 * page;
    m = (unsigned char *)mmap(NULL, *map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    if (mprotect(m, page, PROT_NONE) != 0 || mprotect(m + page + body, page, PROT_NONE) != 0) return NULL;
    *map = m;
    return m + page + body - bytes;
}

/* Stack painting: paint() fills the STACK_PROBE bytes below its own frame (below the stack
 * pointer: nothing else runs there) with a pattern; after the run, probe() finds how far
 * down it was overwritten. paint() and the run are called from the same frame. */
static uintptr_t painted_top;
static __attribute__((noinline)) void paint(void) {
    uintptr_t top = (uintptr_t)__builtin_frame_address(0) - 1024; /* below paint's frame */
    size_t i;
    for (i = 1; i <= STACK_PROBE; ++i) *(volatile unsigned char *)(top - i) = 0xA5;
    painted_top = top;
}
static size_t probe(void) {
    uintptr_t bottom = painted_top - STACK_PROBE;
    size_t i = 0;
    while (i < STACK_PROBE && *(volatile unsigned char *)(bottom + i) == 0xA5) ++i;
    return STACK_PROBE - i;
}

int main(int argc, char **argv) {
    long n_in = 0, n_ref = 0, i;
    float *input, *ref, *logits, *logits2;
    double tolerance = 1e-4, max_diff = 0, max_ref = 0, t0, ms;
    const char *expect_target = NULL;
    int repeat = 1, r, status;
    unsigned char *ws, *misaligned_ws, *small_ws;
    void *map1, *map2;
    size_t map1_bytes, map2_bytes, stack_used;
    const size_t ws_bytes = API(_workspace_bytes)();
    char msg[200];

    if (argc < 3) {
        fprintf(stderr, "usage: %s input.npy logits.npy [--tolerance T] [--repeat K] [--expect-target TEXT]\n",
                argv[0]);
        return 2;
    }
    for (i = 3; i < argc; ++i) {
        if (strcmp(argv[i], "--tolerance") == 0 && i + 1 < argc)
            tolerance = atof(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--expect-target") == 0 && i + 1 < argc)
            expect_target = argv[++i];
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (repeat < 1) repeat = 1;
    input = npy_read_f32(argv[1], &n_in);
    ref = npy_read_f32(argv[2], &n_ref);
    if (!input || !ref) return 1;
    if (n_in != API(_INPUT_SIZE) || n_ref != API(_OUTPUT_SIZE)) {
        fprintf(stderr, "shape mismatch: input %ld floats (library %d), logits %ld (library %d)\n",
                n_in, (int)API(_INPUT_SIZE), n_ref, (int)API(_OUTPUT_SIZE));
        return 1;
    }
    logits = (float *)malloc(sizeof(float) * API(_OUTPUT_SIZE));
    logits2 = (float *)malloc(sizeof(float) * API(_OUTPUT_SIZE));
    ws = fenced(ws_bytes, &map1, &map1_bytes);
    small_ws = fenced(ws_bytes - 64, &map2, &map2_bytes);
    if (!logits || !logits2 || !ws || !small_ws) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    expect(no_heap_guard_calls() > 0, "the heap wrappers are linked in (the test's own mallocs went through them)");
    expect(ws_bytes == (size_t)API(_WORKSPACE_BYTES) && ws_bytes % API(_WORKSPACE_ALIGNMENT) == 0,
           "N_workspace_bytes() == N_WORKSPACE_BYTES, a multiple of the alignment");
    printf("workspace: %lu bytes, %d planned blocks\n", (unsigned long)ws_bytes, (int)API(_WORKSPACE_BLOCKS));
    printf("selected target: %s (of %d)\n", API(_selected_target)(), (int)API(_TARGET_COUNT));
    if (expect_target) {
        sprintf(msg, "the selected target contains \"%.100s\"", expect_target);
        expect(strstr(API(_selected_target)(), expect_target) != NULL, msg);
    }

    /* 1. bad arguments: error codes, no crash, no heap */
    misaligned_ws = ws + 8;
    no_heap_guard_arm();
    status = API(_run_in)(NULL, logits, ws);
    no_heap_guard_disarm();
    expect(status == API(_ERR_NULL_ARGUMENT), "null input -> ERR_NULL_ARGUMENT");
    no_heap_guard_arm();
    status = API(_run_in)(input, NULL, ws);
    no_heap_guard_disarm();
    expect(status == API(_ERR_NULL_ARGUMENT), "null logits -> ERR_NULL_ARGUMENT");
    no_heap_guard_arm();
    status = API(_run_in)(input, logits, NULL);
    no_heap_guard_disarm();
    expect(status == API(_ERR_NULL_ARGUMENT), "null workspace -> ERR_NULL_ARGUMENT");
    no_heap_guard_arm();
    status = API(_run_in)(input, logits, misaligned_ws);
    no_heap_guard_disarm();
    expect(status == API(_ERR_BAD_WORKSPACE), "workspace misaligned by 8 bytes -> ERR_BAD_WORKSPACE");

    /* 2. the real thing, in garbage-filled, fenced memory of exactly N_WORKSPACE_BYTES */
    memset(ws, 0xFF, ws_bytes); /* NaN bit patterns everywhere */
    for (i = 0; i < API(_OUTPUT_SIZE); ++i) logits[i] = logits2[i] = NAN;
    paint();
    no_heap_guard_arm();
    status = API(_run_in)(input, logits, ws);
    no_heap_guard_disarm();
    stack_used = probe();
    if (status != API(_OK)) printf("run failed (%d): %s\n", status, API(_last_error)());
    expect(status == API(_OK), "N_run_in in a workspace of exactly N_WORKSPACE_BYTES (fenced, dirty)");
    for (i = 0; i < n_ref; ++i) {
        double d = fabs((double)logits[i] - ref[i]);
        if (!(d <= max_diff)) max_diff = d; /* NaN counts as a difference */
        if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    sprintf(msg, "logits vs reference: max|diff| %.3g, max|logit| %.3g, ratio %.3g <= %.0e",
            max_diff, max_ref, max_diff / max_ref, tolerance);
    expect(max_diff / max_ref <= tolerance, msg);
    printf("stack used by N_run_in: about %lu bytes\n", (unsigned long)stack_used);

    t0 = now_ms();
    for (r = 0; r < repeat; ++r) {
        no_heap_guard_arm();
        status = API(_run_in)(input, logits2, ws);
        no_heap_guard_disarm();
        if (status != API(_OK)) break;
    }
    ms = (now_ms() - t0) / repeat;
    expect(status == API(_OK) && memcmp(logits, logits2, sizeof(float) * API(_OUTPUT_SIZE)) == 0,
           "runs in the dirty workspace give the same logits bit for bit");
    printf("time: %.2f ms/run (single thread, %d runs)\n", ms, repeat);

    /* 3. one block short: refused by the allocator, nothing outside touched */
    no_heap_guard_arm();
    status = API(_run_in_sized)(input, logits, small_ws, ws_bytes - 64);
    no_heap_guard_disarm();
    printf("  (%s)\n", API(_last_error)());
    expect(status == API(_ERR_WORKSPACE_TOO_SMALL),
           "N_run_in_sized with N_WORKSPACE_BYTES - 64 -> ERR_WORKSPACE_TOO_SMALL");
    no_heap_guard_arm();
    status = API(_run_in)(input, logits, ws); /* and the library still works */
    no_heap_guard_disarm();
    expect(status == API(_OK), "a run after the failed one succeeds");

    munmap(map1, map1_bytes);
    munmap(map2, map2_bytes);
    free(input);
    free(ref);
    free(logits);
    free(logits2);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
