// Writes N.h. The wrapper is static inline C99 in the header so that m1c needs no C compiler
// for the target: it builds Halide buffer descriptors for the raw pointers and calls the
// pipeline function. The descriptor structs mirror Halide 14's halide_buffer_t ABI under
// m1c_* names (checked against HalideRuntime.h below), so a program that also includes
// HalideRuntime.h, in either order, compiles. State that must be shared by every
// translation unit of a program (thread setting, last error, external weights pointer) is
// in weak globals, which the linker merges.
#include "codegen/c_header.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <set>
#include <sstream>

#include <HalideRuntime.h>

namespace m1c::codegen {

namespace {

// The mirror of halide_buffer_t written into N.h, restated in C++ to check the ABI here.
struct MirrorType { uint8_t code, bits; uint16_t lanes; };
struct MirrorDim { int32_t min, extent, stride; uint32_t flags; };
struct MirrorBuffer {
    uint64_t device;
    const void *device_interface;
    uint8_t *host;
    uint64_t flags;
    MirrorType type;
    int32_t dimensions;
    MirrorDim *dim;
    void *padding;
};
static_assert(sizeof(MirrorType) == sizeof(halide_type_t), "halide_type_t ABI");
static_assert(sizeof(MirrorDim) == sizeof(halide_dimension_t), "halide_dimension_t ABI");
static_assert(sizeof(MirrorBuffer) == sizeof(halide_buffer_t), "halide_buffer_t ABI");
static_assert(offsetof(MirrorBuffer, host) == offsetof(halide_buffer_t, host), "ABI");
static_assert(offsetof(MirrorBuffer, flags) == offsetof(halide_buffer_t, flags), "ABI");
static_assert(offsetof(MirrorBuffer, type) == offsetof(halide_buffer_t, type), "ABI");
static_assert(offsetof(MirrorBuffer, dimensions) == offsetof(halide_buffer_t, dimensions), "ABI");
static_assert(offsetof(MirrorBuffer, dim) == offsetof(halide_buffer_t, dim), "ABI");
static_assert(halide_type_float == 2, "halide_type_float");

void replace_all(std::string &s, const std::string &from, const std::string &to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
}

// Shared by every m1c header: guarded so several can be included in one file.
const char *kShared = R"m1c(
/* ---- shared by all m1c headers (Halide 14 ABI mirror, m1c error context) ---- */
#ifndef M1C_HALIDE_ABI_V14
#define M1C_HALIDE_ABI_V14
/* Same layout as halide_type_t / halide_dimension_t / halide_buffer_t of Halide 14's
 * HalideRuntime.h, under other names so that both headers can be included together. */
typedef struct m1c_halide_type_t { uint8_t code; uint8_t bits; uint16_t lanes; } m1c_halide_type_t;
typedef struct m1c_halide_dimension_t {
    int32_t min, extent, stride;
    uint32_t flags;
} m1c_halide_dimension_t;
typedef struct m1c_halide_buffer_t {
    uint64_t device;
    const void *device_interface;
    uint8_t *host;
    uint64_t flags;
    m1c_halide_type_t type;
    int32_t dimensions;
    m1c_halide_dimension_t *dim;
    void *padding;
} m1c_halide_buffer_t;

/* Halide runtime functions (in every m1c library; weak, so one copy is used). */
typedef void (*m1c_halide_error_handler_t)(void *, const char *);
int halide_set_num_threads(int n);
m1c_halide_error_handler_t halide_set_error_handler(m1c_halide_error_handler_t handler);

#define M1C_CONTEXT_MAGIC 0x4d314331u
#define M1C_ERROR_CHARS 256
/* Passed as Halide's user_context: the error handler copies the message here. */
typedef struct m1c_context_t {
    uint32_t magic;
    char message[M1C_ERROR_CHARS];
} m1c_context_t;

/* Halide calls this instead of its default handler (which prints and aborts). */
static inline void m1c_on_halide_error(void *user_context, const char *message) {
    m1c_context_t *ctx = (m1c_context_t *)user_context;
    size_t i = 0;
    if (!ctx || ctx->magic != M1C_CONTEXT_MAGIC || !message) return;
    for (; i + 1 < M1C_ERROR_CHARS && message[i]; ++i) ctx->message[i] = message[i];
    ctx->message[i] = '\0';
}

static inline void m1c_make_buffer(m1c_halide_buffer_t *b, m1c_halide_dimension_t *d,
                                   const void *host, int dims, const int32_t *extents) {
    int32_t stride = 1;
    int i;
    memset(b, 0, sizeof *b);
    for (i = 0; i < dims; ++i) {
        d[i].min = 0;
        d[i].extent = extents[i];
        d[i].stride = stride;
        d[i].flags = 0;
        stride *= extents[i];
    }
    b->host = (uint8_t *)(uintptr_t)host; /* Halide never writes an input */
    b->type.code = 2;                      /* halide_type_float */
    b->type.bits = 32;
    b->type.lanes = 1;
    b->dimensions = dims;
    b->dim = d;
}

/* Threads: n > 0 as set, else the environment variable M1C_NUM_THREADS, else 0 (Halide's
 * default: all cores, or HL_NUM_THREADS). */
static inline int m1c_resolve_threads(int n) {
    const char *env;
    char *end = 0;
    long v;
    if (n > 0) return n;
    env = getenv("M1C_NUM_THREADS");
    if (!env || !*env) return 0;
    v = strtol(env, &end, 10);
    return (end && *end == '\0' && v > 0 && v <= 256) ? (int)v : 0;
}

static inline void m1c_copy_error(char *dst, const char *src) {
    size_t i = 0;
    for (; i + 1 < M1C_ERROR_CHARS && src[i]; ++i) dst[i] = src[i];
    dst[i] = '\0';
}

#if defined(__GNUC__) || defined(__clang__)
#define M1C_SHARED __attribute__((weak))
#else
#define M1C_SHARED static /* without weak symbols: state is per translation unit */
#endif
#endif /* M1C_HALIDE_ABI_V14 */
#ifndef M1C_MAKE_BUFFER_TYPED
#define M1C_MAKE_BUFFER_TYPED
/* A 1-D buffer of another element type (code: 0 int, 1 uint, 2 float): int8 weights. */
static inline void m1c_make_buffer_1d_typed(m1c_halide_buffer_t *b, m1c_halide_dimension_t *d,
                                            const void *host, int32_t extent, uint8_t code,
                                            uint8_t bits) {
    m1c_make_buffer(b, d, host, 1, &extent);
    b->type.code = code;
    b->type.bits = bits;
}
#endif /* M1C_MAKE_BUFFER_TYPED */
)m1c";

const char *kHead = R"m1c(/* @N@.h -- generated by m1c @VERSION@. Do not edit.
 *
 * @DESC@, compiled for Halide target @TARGET@.
 * Plain C99 (C++ too); needs no include path but this file's directory. Link, e.g.:
 *     cc app.c lib@N@.a -lpthread -ldl -lm
 *
 * int @N@_run(const float *input, float *logits);
 *     input:  @N@_INPUT_N x @N@_INPUT_C x @N@_INPUT_H x @N@_INPUT_W float32, NCHW, contiguous
 *     logits: @N@_INPUT_N x @N@_NUM_CLASSES float32, written (row = image)
 *     Returns @N@_OK (0) or an error code below; never aborts, never prints. Several threads
 *     may call it at once (they share Halide's thread pool).
 * void @N@_set_num_threads(int n);
 *     n >= 1: use n threads; n <= 0: the default again, which is the environment variable
 *     M1C_NUM_THREADS when it holds a positive integer, else all cores. Halide's thread pool
 *     is one per process: each m1c library applies its own setting when a run starts.
 * const char *@N@_last_error(void);
 *     What the last failed call of this library said ("" if none; not thread safe).
@EXTERNAL_DOC@ *
 * Errors: @N@_ERR_NULL_ARGUMENT  a null pointer argument
 *         @N@_ERR_RUNTIME        the pipeline failed (e.g. out of memory); see @N@_last_error()
@EXTERNAL_ERR_DOC@ *
 * const char *@N@_selected_target(void);
 *     The Halide target whose code @N@_run uses on this CPU (a multi-target library holds
 *     one pipeline per target and picks one at each run; see the end of this file).
 * Halide: lib@N@.a holds a Halide pipeline and Halide's runtime (weak symbols: several m1c
 * libraries link into one program). @N@_run installs a non-aborting Halide error handler
 * (halide_set_error_handler is process-wide) and passes Halide a user_context.
 */
#ifndef @N@_M1C_H
#define @N@_M1C_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define @N@_INPUT_N @BATCH@
#define @N@_INPUT_C 3
#define @N@_INPUT_H @HEIGHT@
#define @N@_INPUT_W @WIDTH@
#define @N@_NUM_CLASSES @CLASSES@
#define @N@_INPUT_SIZE (@N@_INPUT_N * @N@_INPUT_C * @N@_INPUT_H * @N@_INPUT_W) /* floats */
#define @N@_OUTPUT_SIZE (@N@_INPUT_N * @N@_NUM_CLASSES)                        /* floats */
#define @N@_EXTERNAL_WEIGHTS @EXTERNAL@

#define @N@_OK 0
#define @N@_ERR_NULL_ARGUMENT 1
#define @N@_ERR_RUNTIME 2
#define @N@_ERR_NOT_INITIALIZED 3
#define @N@_ERR_BAD_WEIGHTS 4
)m1c";

const char *kExternalDoc = R"m1c( * int @N@_init(const void *blob, size_t bytes);
 *     External weights: call once before @N@_run with the contents of @N@.weights
 *     (@N@_WEIGHTS_BYTES bytes, 4-byte aligned, e.g. from malloc or mmap). The blob is used
 *     in place: keep it alive and unchanged while @N@_run may run. Returns @N@_OK,
 *     @N@_ERR_NULL_ARGUMENT or @N@_ERR_BAD_WEIGHTS (wrong size, not an m1c weights file, or
 *     the weights of another compile).
 *     @N@.weights: a 64-byte header (magic "M1CWGT01", u32 version = 1, u32 header bytes =
 *     64, u64 payload floats, 32-byte SHA-256 of the payload, u64 int8 bytes, 0 for float32) then the payload:
 *     float32 little-endian, each tensor at a 16-float aligned offset, rearranged for the
 *     pipeline; offsets and extents (innermost first) are listed in @N@.json
 *     ("weights"/"tensors"). int8 libraries (version 2): the int8 weights follow the floats,
 *     their byte count is the u64 at header offset 56.
)m1c";

const char *kExternalErrDoc =
    R"m1c( *         @N@_ERR_NOT_INITIALIZED  @N@_run before a successful @N@_init
 *         @N@_ERR_BAD_WEIGHTS      @N@_init given a blob that is not this library's weights
)m1c";

const char *kBody = R"m1c(
/* The Halide pipeline in lib@N@.a (Halide's generated signature). */
int @N@_halide(void *user_context, m1c_halide_buffer_t *input,@WEIGHTS_ARG@
               m1c_halide_buffer_t *logits);

/* Program-wide state (weak: one copy however many files include this header). */
M1C_SHARED int @N@_m1c_threads = 0;
M1C_SHARED char @N@_m1c_error[M1C_ERROR_CHARS];
@WEIGHTS_STATE@
static inline void @N@_set_num_threads(int n) {
    @N@_m1c_threads = n > 0 ? n : 0;
    halide_set_num_threads(m1c_resolve_threads(@N@_m1c_threads));
}

static inline const char *@N@_last_error(void) { return @N@_m1c_error; }
@INIT_FN@
@CAN_USE_FN@static inline int @N@_run(const float *input, float *logits) {
    static const int32_t in_extents[4] = {@N@_INPUT_W, @N@_INPUT_H, @N@_INPUT_C, @N@_INPUT_N};
    static const int32_t out_extents[2] = {@N@_NUM_CLASSES, @N@_INPUT_N};
    m1c_halide_dimension_t in_dim[4], out_dim[2];
    m1c_halide_buffer_t in_buf, out_buf;
@WEIGHTS_LOCALS@    m1c_context_t ctx;
    int status;
    if (!input || !logits) {
        m1c_copy_error(@N@_m1c_error, "@N@_run: null input or logits pointer");
        return @N@_ERR_NULL_ARGUMENT;
    }
@WEIGHTS_CHECK@    m1c_make_buffer(&in_buf, in_dim, input, 4, in_extents);
    m1c_make_buffer(&out_buf, out_dim, logits, 2, out_extents);
    ctx.magic = M1C_CONTEXT_MAGIC;
    ctx.message[0] = '\0';
    halide_set_error_handler(m1c_on_halide_error);
    halide_set_num_threads(m1c_resolve_threads(@N@_m1c_threads));
@CAN_USE_INSTALL@    status = @N@_halide(&ctx, &in_buf,@WEIGHTS_PASS@ &out_buf);
    if (status != 0) {
        m1c_copy_error(@N@_m1c_error, ctx.message[0] ? ctx.message : "@N@_run: Halide pipeline failed");
        return @N@_ERR_RUNTIME;
    }
    return @N@_OK;
}
@SELECTED_TARGET@
#ifdef __cplusplus
}  /* extern "C" */
#endif
#endif /* @N@_M1C_H */
)m1c";

// ---- firmware mode -----------------------------------------------------------------------
const char *kFwHead = R"m1c(/* @N@.h -- generated by m1c @VERSION@. Do not edit.
 *
 * @DESC@, compiled for Halide target @TARGET@.
 * FIRMWARE library: single-threaded and heap-free. During @N@_run_in the library calls no
 * malloc, calloc, realloc, free, posix_memalign or aligned_alloc, creates no thread, prints
 * nothing and reads no file or environment variable: it computes in a workspace the caller
 * owns, whose size m1c planned at compile time, and on the caller's stack.
 * Plain C99 (C++ too), GCC or Clang; needs no include path but this file's directory. Link:
 *     cc app.c lib@N@.a -lm
 * (no -lpthread, -ldl or C++ runtime: see "Linking" below).
 *
 * size_t @N@_workspace_bytes(void);
 *     The workspace size, also the constant @N@_WORKSPACE_BYTES, e.g.
 *         static unsigned char arena[@N@_WORKSPACE_BYTES] __attribute__((aligned(64)));
 * int @N@_run_in(const float *input, float *logits, void *workspace);
 *     input:  @N@_INPUT_N x @N@_INPUT_C x @N@_INPUT_H x @N@_INPUT_W float32, NCHW, contiguous
 *     logits: @N@_INPUT_N x @N@_NUM_CLASSES float32, written (row = image)
 *     workspace: @N@_WORKSPACE_BYTES bytes, aligned to @N@_WORKSPACE_ALIGNMENT bytes; need not
 *     be initialised, holds garbage afterwards. Returns @N@_OK (0) or an error code below;
 *     never aborts. The library keeps no state of its own between calls (but
 *     @N@_last_error): everything is in the workspace and on the stack.
 * int @N@_run_in_sized(const float *input, float *logits, void *workspace, size_t bytes);
 *     The same, told the workspace's size: with fewer than @N@_WORKSPACE_BYTES bytes it
 *     returns @N@_ERR_WORKSPACE_TOO_SMALL when the first block that does not fit is asked
 *     for (nothing outside the workspace is touched). A library of several targets asks for
 *     @N@_WORKSPACE_BYTES (the largest of its targets' workspaces) whichever target runs.
 * const char *@N@_selected_target(void);
 *     The Halide target whose code @N@_run_in uses on this CPU (see the end of this file).
 * const char *@N@_last_error(void);
 *     What the last failed call of this library said ("" if none; not thread safe).
@EXTERNAL_DOC@ *
 * Errors: @N@_ERR_NULL_ARGUMENT        input, logits or workspace is a null pointer
 *         @N@_ERR_RUNTIME              the pipeline failed; see @N@_last_error()
 *         @N@_ERR_BAD_WORKSPACE        workspace not aligned to @N@_WORKSPACE_ALIGNMENT bytes
 *         @N@_ERR_WORKSPACE_TOO_SMALL  (@N@_run_in_sized) fewer than @N@_WORKSPACE_BYTES bytes
@EXTERNAL_ERR_DOC@ *
 * How: lib@N@.a's Halide runtime (target OS "noos") has no allocator, thread pool or error
 * printer of its own; this header defines halide_malloc, halide_free, halide_error and
 * halide_print (weak: one copy per program, shared by every firmware m1c header). The k-th
 * halide_malloc of a run returns workspace + offset k of the plan (@N@_m1c_plan; with several
 * targets, the plan of the one that runs), after checking that
 * it asks for exactly the planned number of bytes and that the block ends at least
 * @N@_WORKSPACE_GUARD bytes before the end of the workspace; otherwise it returns NULL and
 * the pipeline fails with an error code. halide_free does nothing.
 * Linking: lib@N@.a still names malloc, free and a few stdio functions, from Halide runtime
 * code that @N@_run_in never reaches (error-message formatting for bad buffer arguments,
 * tracing, debug-to-file); with -Wl,--gc-sections most of it is dropped. Do not link a
 * firmware library and an ordinary (threaded) m1c library into the same program.
 */
#ifndef @N@_M1C_H
#define @N@_M1C_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define @N@_INPUT_N @BATCH@
#define @N@_INPUT_C 3
#define @N@_INPUT_H @HEIGHT@
#define @N@_INPUT_W @WIDTH@
#define @N@_NUM_CLASSES @CLASSES@
#define @N@_INPUT_SIZE (@N@_INPUT_N * @N@_INPUT_C * @N@_INPUT_H * @N@_INPUT_W) /* floats */
#define @N@_OUTPUT_SIZE (@N@_INPUT_N * @N@_NUM_CLASSES)                        /* floats */
#define @N@_EXTERNAL_WEIGHTS @EXTERNAL@
#define @N@_FIRMWARE 1
#define @N@_WORKSPACE_BYTES @WS_BYTES@u /* bytes; a multiple of @N@_WORKSPACE_ALIGNMENT */
#define @N@_WORKSPACE_ALIGNMENT @WS_ALIGN@
#define @N@_WORKSPACE_GUARD @WS_GUARD@  /* bytes before the first and after the last block */
#define @N@_WORKSPACE_BLOCKS @WS_COUNT@ /* halide_malloc calls of one run (several targets: the most) */

#define @N@_OK 0
#define @N@_ERR_NULL_ARGUMENT 1
#define @N@_ERR_RUNTIME 2
#define @N@_ERR_NOT_INITIALIZED 3
#define @N@_ERR_BAD_WEIGHTS 4
#define @N@_ERR_BAD_WORKSPACE 5
#define @N@_ERR_WORKSPACE_TOO_SMALL 6
)m1c";

// Halide runtime functions that the "noos" runtime leaves to the application: defined once
// per program (weak), for every firmware m1c library in it.
const char *kFwShared = R"m1c(
/* ---- shared by all firmware m1c headers: Halide's allocator and error hooks ---- */
#ifndef M1C_FIRMWARE_RUNTIME_V1
#define M1C_FIRMWARE_RUNTIME_V1
#define M1C_FW_CONTEXT_MAGIC 0x4d314346u
#define M1C_FW_OK 0
#define M1C_FW_TOO_SMALL 1    /* a planned block would not fit the workspace given */
#define M1C_FW_MISMATCH 2     /* Halide asked for another size, or more blocks, than planned */
/* Halide's user_context during a firmware run. Starts like m1c_context_t. */
typedef struct m1c_fw_context_t {
    uint32_t magic; /* M1C_FW_CONTEXT_MAGIC */
    char message[M1C_ERROR_CHARS];
    unsigned char *workspace;
    size_t capacity;       /* bytes of the workspace */
    size_t guard;          /* bytes that must stay free after a block */
    const uint32_t *plan;  /* (offset, bytes) of each halide_malloc, in order */
    uint32_t count, next;  /* planned blocks, blocks handed out */
    int failure;           /* M1C_FW_* */
} m1c_fw_context_t;

static inline void m1c_fw_message(m1c_fw_context_t *ctx, const char *text, uint32_t index,
                                  size_t asked, size_t planned) {
    /* "<text> (block <index>: <asked> bytes asked, <planned> planned)" without stdio */
    char *out = ctx->message;
    size_t n = 0, k;
    const char *parts[3] = {" (block ", ": asked ", " bytes, planned "};
    size_t values[3];
    int i;
    values[0] = index;
    values[1] = asked;
    values[2] = planned;
    for (; *text && n + 1 < M1C_ERROR_CHARS; ++text) out[n++] = *text;
    for (i = 0; i < 3; ++i) {
        char digits[24];
        int d = 0;
        size_t v = values[i];
        for (k = 0; parts[i][k] && n + 1 < M1C_ERROR_CHARS; ++k) out[n++] = parts[i][k];
        do {
            digits[d++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (d > 0 && n + 1 < M1C_ERROR_CHARS) out[n++] = digits[--d];
    }
    if (n + 1 < M1C_ERROR_CHARS) out[n++] = ')';
    out[n] = '\0';
}

M1C_SHARED void *halide_malloc(void *user_context, size_t bytes) {
    m1c_fw_context_t *ctx = (m1c_fw_context_t *)user_context;
    size_t offset, planned;
    if (!ctx || ctx->magic != M1C_FW_CONTEXT_MAGIC) return 0; /* not an m1c firmware run */
    if (ctx->failure != M1C_FW_OK) return 0;
    if (ctx->next >= ctx->count) {
        ctx->failure = M1C_FW_MISMATCH;
        m1c_fw_message(ctx, "m1c: more allocations than planned", ctx->next, bytes, 0);
        return 0;
    }
    offset = ctx->plan[2 * ctx->next];
    planned = ctx->plan[2 * ctx->next + 1];
    if (bytes != planned) {
        ctx->failure = M1C_FW_MISMATCH;
        m1c_fw_message(ctx, "m1c: allocation differs from the plan", ctx->next, bytes, planned);
        return 0;
    }
    if (ctx->capacity < ctx->guard || offset + planned > ctx->capacity - ctx->guard) {
        ctx->failure = M1C_FW_TOO_SMALL;
        m1c_fw_message(ctx, "m1c: workspace too small", ctx->next, bytes, planned);
        return 0;
    }
    ctx->next++;
    return ctx->workspace + offset;
}

M1C_SHARED void halide_free(void *user_context, void *ptr) {
    (void)user_context; /* the workspace belongs to the caller */
    (void)ptr;
}

M1C_SHARED void halide_error(void *user_context, const char *message) {
    m1c_fw_context_t *ctx = (m1c_fw_context_t *)user_context;
    size_t i = 0;
    if (!ctx || !message) return;
    if (ctx->magic != M1C_FW_CONTEXT_MAGIC && ctx->magic != M1C_CONTEXT_MAGIC) return;
    if (ctx->magic == M1C_FW_CONTEXT_MAGIC && ctx->failure != M1C_FW_OK) return; /* keep ours */
    for (; i + 1 < M1C_ERROR_CHARS && message[i]; ++i) ctx->message[i] = message[i];
    ctx->message[i] = '\0';
}

M1C_SHARED void halide_print(void *user_context, const char *message) {
    (void)user_context; /* firmware prints nothing */
    (void)message;
}
#endif /* M1C_FIRMWARE_RUNTIME_V1 */
)m1c";

const char *kFwBody = R"m1c(
/* The Halide pipeline in lib@N@.a (Halide's generated signature). */
int @N@_halide(void *user_context, m1c_halide_buffer_t *input,@WEIGHTS_ARG@
               m1c_halide_buffer_t *logits);

/* Program-wide state (weak: one copy however many files include this header). */
M1C_SHARED char @N@_m1c_error[M1C_ERROR_CHARS];
@WEIGHTS_STATE@
@CAN_USE_FN@@SELECTED_TARGET@
@PLAN_TABLES@
static inline size_t @N@_workspace_bytes(void) { return (size_t)@N@_WORKSPACE_BYTES; }

static inline const char *@N@_last_error(void) { return @N@_m1c_error; }
@INIT_FN@
static inline int @N@_run_in_sized(const float *input, float *logits, void *workspace,
                                   size_t workspace_bytes) {
    static const int32_t in_extents[4] = {@N@_INPUT_W, @N@_INPUT_H, @N@_INPUT_C, @N@_INPUT_N};
    static const int32_t out_extents[2] = {@N@_NUM_CLASSES, @N@_INPUT_N};
    m1c_halide_dimension_t in_dim[4], out_dim[2];
    m1c_halide_buffer_t in_buf, out_buf;
@WEIGHTS_LOCALS@    m1c_fw_context_t ctx;
    int status;
    if (!input || !logits || !workspace) {
        m1c_copy_error(@N@_m1c_error, "@N@_run_in: null input, logits or workspace pointer");
        return @N@_ERR_NULL_ARGUMENT;
    }
    if (((uintptr_t)workspace) % @N@_WORKSPACE_ALIGNMENT != 0) {
        m1c_copy_error(@N@_m1c_error, "@N@_run_in: workspace not aligned to @N@_WORKSPACE_ALIGNMENT bytes");
        return @N@_ERR_BAD_WORKSPACE;
    }
@WEIGHTS_CHECK@    m1c_make_buffer(&in_buf, in_dim, input, 4, in_extents);
    m1c_make_buffer(&out_buf, out_dim, logits, 2, out_extents);
    ctx.magic = M1C_FW_CONTEXT_MAGIC;
    ctx.message[0] = '\0';
    ctx.workspace = (unsigned char *)workspace;
    ctx.capacity = workspace_bytes;
    ctx.guard = @N@_WORKSPACE_GUARD;
@PLAN_SELECT@    ctx.next = 0;
    ctx.failure = M1C_FW_OK;
    status = @N@_halide(&ctx, &in_buf,@WEIGHTS_PASS@ &out_buf);
    if (status == 0 && ctx.next != ctx.count) {
        m1c_fw_message(&ctx, "m1c: fewer allocations than planned", ctx.next, 0, 0);
        status = -1;
    }
    if (status != 0) {
        m1c_copy_error(@N@_m1c_error, ctx.message[0] ? ctx.message : "@N@_run_in: Halide pipeline failed");
        return ctx.failure == M1C_FW_TOO_SMALL ? @N@_ERR_WORKSPACE_TOO_SMALL : @N@_ERR_RUNTIME;
    }
    return @N@_OK;
}

static inline int @N@_run_in(const float *input, float *logits, void *workspace) {
    return @N@_run_in_sized(input, logits, workspace, (size_t)@N@_WORKSPACE_BYTES);
}

#ifdef __cplusplus
}  /* extern "C" */
#endif
#endif /* @N@_M1C_H */
)m1c";

const char *kInitFn = R"m1c(
static inline int @N@_init(const void *blob, size_t bytes) {
    const unsigned char *b = (const unsigned char *)blob;
    if (!blob) {
        m1c_copy_error(@N@_m1c_error, "@N@_init: null blob");
        return @N@_ERR_NULL_ARGUMENT;
    }
    if (bytes != (size_t)@N@_WEIGHTS_BYTES || ((uintptr_t)b) % 4 != 0 ||
        memcmp(b, "M1CWGT01", 8) != 0 || memcmp(b + 24, @N@_WEIGHTS_SHA256, 32) != 0) {
        m1c_copy_error(@N@_m1c_error, "@N@_init: not the weights of this library (size, alignment, magic or SHA-256 differ)");
        return @N@_ERR_BAD_WEIGHTS;
    }
    @N@_m1c_weights = (const float *)(const void *)(b + 64);
    return @N@_OK;
}
)m1c";

std::string sha_literal(const std::array<uint8_t, 32> &d) {
    static const char *digits = "0123456789abcdef";
    std::string s = "\"";
    for (uint8_t b : d) {
        s += "\\x";
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s + "\"";
}

}  // namespace

bool valid_library_name(const std::string &name) {
    static const std::set<std::string> reserved = {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
        "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
        "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
        "typedef", "union", "unsigned", "void", "volatile", "while", "halide", "m1c"};
    if (name.empty() || name.size() > 64 || reserved.count(name)) return false;
    if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    if (name[0] == '_' && name.size() > 1 &&
        (name[1] == '_' || std::isupper(static_cast<unsigned char>(name[1]))))
        return false;  // reserved for the implementation
    for (char ch : name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
    return true;
}

std::string c_header_text(const HeaderInfo &h) {
    std::string text = h.firmware ? kFwHead : kHead;
    replace_all(text, "@EXTERNAL_DOC@", h.external_weights ? kExternalDoc : "");
    replace_all(text, "@EXTERNAL_ERR_DOC@", h.external_weights ? kExternalErrDoc : "");
    if (h.external_weights) {
        std::ostringstream ext;
        ext << "#define @N@_WEIGHTS_FILE \"@N@.weights\"\n"
            << "#define @N@_WEIGHTS_FLOATS " << h.weight_floats << "\n"
            << "#define @N@_WEIGHTS_BYTES (" << kWeightsHeaderBytes << " + 4 * "
            << h.weight_floats << "ull" << (h.weight_i8_bytes ? " + " + std::to_string(h.weight_i8_bytes) + "ull" : "")
            << ")\n"
            << "#define @N@_WEIGHTS_SHA256 " << sha_literal(h.payload_sha256) << "\n";
        text += ext.str();
    }
    text += kShared;
    if (h.firmware) text += kFwShared;
    std::string body = h.firmware ? kFwBody : kBody;
    if (h.firmware) {
        replace_all(text, "before @N@_run with", "before @N@_run_in with");
        replace_all(text, "while @N@_run may run", "while @N@_run_in may run");
        replace_all(text, "@N@_run before a successful", "@N@_run_in before a successful");
        replace_all(body, "@PLAN_TABLES@", firmware_plan_text(h));
        replace_all(body, "@PLAN_SELECT@", firmware_plan_select_text(h));
        size_t blocks = 0;
        for (const auto &plan : h.plans) blocks = std::max(blocks, plan.size());
        replace_all(text, "@WS_BYTES@", std::to_string(h.workspace_bytes));
        replace_all(text, "@WS_ALIGN@", std::to_string(h.workspace_alignment));
        replace_all(text, "@WS_GUARD@", std::to_string(h.guard_bytes));
        replace_all(text, "@WS_COUNT@", std::to_string(blocks));
    }
    if (h.external_weights) {
        // int8 libraries take the int8 blob as a second buffer, right after the floats.
        const bool i8 = h.weight_i8_bytes > 0;
        replace_all(body, "@WEIGHTS_ARG@",
                    std::string("\n               m1c_halide_buffer_t *weights,") +
                        (i8 ? "\n               m1c_halide_buffer_t *weights_i8," : ""));
        replace_all(body, "@WEIGHTS_STATE@", "M1C_SHARED const float *@N@_m1c_weights = 0;\n");
        replace_all(body, "@INIT_FN@", kInitFn);
        replace_all(body, "@WEIGHTS_LOCALS@",
                    std::string("    static const int32_t w_extents[1] = {@N@_WEIGHTS_FLOATS};\n"
                                "    m1c_halide_dimension_t w_dim[1];\n"
                                "    m1c_halide_buffer_t w_buf;\n") +
                        (i8 ? "    m1c_halide_dimension_t w8_dim[1];\n"
                              "    m1c_halide_buffer_t w8_buf;\n" : ""));
        replace_all(body, "@WEIGHTS_CHECK@",
                    std::string("    if (!@N@_m1c_weights) {\n"
                                "        m1c_copy_error(@N@_m1c_error, \"@N@_run: @N@_init has not succeeded\");\n"
                                "        return @N@_ERR_NOT_INITIALIZED;\n"
                                "    }\n"
                                "    m1c_make_buffer(&w_buf, w_dim, @N@_m1c_weights, 1, w_extents);\n") +
                        (i8 ? "    m1c_make_buffer_1d_typed(&w8_buf, w8_dim, @N@_m1c_weights + @N@_WEIGHTS_FLOATS,\n"
                              "                             (int32_t)" + std::to_string(h.weight_i8_bytes) + ", 0, 8);\n"
                            : ""));
        replace_all(body, "@WEIGHTS_PASS@", i8 ? " &w_buf, &w8_buf," : " &w_buf,");
    } else {
        for (const char *key : {"@WEIGHTS_ARG@", "@WEIGHTS_STATE@", "@INIT_FN@", "@WEIGHTS_LOCALS@",
                                "@WEIGHTS_CHECK@", "@WEIGHTS_PASS@"})
            replace_all(body, key, "");
    }
    replace_all(body, "@SELECTED_TARGET@", h.targets.empty() ? "" : dispatch_text(h));
    replace_all(body, "@RUN_FN@", h.firmware ? "@N@_run_in" : "@N@_run");
    replace_all(body, "@CAN_USE_FN@", h.arm_hwcaps ? arm_can_use_text(h) : "");
    replace_all(body, "@CAN_USE_INSTALL@",
                h.arm_hwcaps ? "    halide_set_custom_can_use_target_features(@N@_m1c_can_use);\n" : "");
    text += body;
    if (h.firmware) replace_all(text, "@N@_run: @N@_init", "@N@_run_in: @N@_init");
    text = with_feature_outputs(h, std::move(text));
    replace_all(text, "@N@_halide", h.pipeline_fn);
    replace_all(text, "@N@", h.name);
    replace_all(text, "@VERSION@", "0.1.0");
    replace_all(text, "@DESC@", h.description);
    replace_all(text, "@TARGET@", h.target);
    replace_all(text, "@BATCH@", std::to_string(h.batch));
    replace_all(text, "@HEIGHT@", std::to_string(h.height));
    replace_all(text, "@WIDTH@", std::to_string(h.width));
    replace_all(text, "@CLASSES@", std::to_string(h.classes));
    replace_all(text, "@EXTERNAL@", h.external_weights ? "1" : "0");
    return text;
}

}  // namespace m1c::codegen
