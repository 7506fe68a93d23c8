// See fma_peak.h. Each kernel keeps A accumulators in registers, each updated by one FMA per
// iteration, independent of the others: with A >= latency x FMA ports the FMA units never
// wait. x86 kernels are compiled for their ISA with target attributes and chosen at run time.
#include "cli/fma_peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define M1C_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define M1C_NEON 1
#endif

namespace m1c::cli {
namespace {

volatile float g_sink;  // keeps the accumulators' results alive

#if M1C_X86
// 16 accumulators: 4-cycle latency x 2 FMA ports needs 8; 16 leaves margin (32 zmm registers).
__attribute__((target("avx512f"))) void kernel_avx512(long iters) {
    constexpr int A = 16;
    __m512 acc[A];
    for (int i = 0; i < A; ++i) acc[i] = _mm512_set1_ps(0.001f * float(i));
    const __m512 a = _mm512_set1_ps(0.99999f), b = _mm512_set1_ps(1e-6f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
        for (int i = 0; i < A; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < A; ++i) s = _mm512_add_ps(s, acc[i]);
    float out[16];
    _mm512_storeu_ps(out, s);
    g_sink = out[0] + out[15];
}
// 12 accumulators + 2 constants in the 16 ymm registers.
__attribute__((target("avx2,fma"))) void kernel_avx2(long iters) {
    constexpr int A = 12;
    __m256 acc[A];
    for (int i = 0; i < A; ++i) acc[i] = _mm256_set1_ps(0.001f * float(i));
    const __m256 a = _mm256_set1_ps(0.99999f), b = _mm256_set1_ps(1e-6f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < A; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 s = acc[0];
    for (int i = 1; i < A; ++i) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    g_sink = out[0] + out[7];
}
// No FMA: a multiply and an add per accumulator (2 flops, as an FMA).
void kernel_sse(long iters) {
    constexpr int A = 12;
    __m128 acc[A];
    for (int i = 0; i < A; ++i) acc[i] = _mm_set1_ps(0.001f * float(i));
    const __m128 a = _mm_set1_ps(0.99999f), b = _mm_set1_ps(1e-6f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < A; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
    }
    __m128 s = acc[0];
    for (int i = 1; i < A; ++i) s = _mm_add_ps(s, acc[i]);
    float out[4];
    _mm_storeu_ps(out, s);
    g_sink = out[0] + out[3];
}
#elif M1C_NEON
// 24 accumulators: up to 4 FMA pipes x 4-cycle latency, of the 32 NEON registers.
void kernel_neon(long iters) {
    constexpr int A = 24;
    float32x4_t acc[A];
    for (int i = 0; i < A; ++i) acc[i] = vdupq_n_f32(0.001f * float(i));
    const float32x4_t a = vdupq_n_f32(0.99999f), b = vdupq_n_f32(1e-6f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
        for (int i = 0; i < A; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
    }
    float32x4_t s = acc[0];
    for (int i = 1; i < A; ++i) s = vaddq_f32(s, acc[i]);
    g_sink = vaddvq_f32(s);
}
#endif

void kernel_scalar(long iters) {
    constexpr int A = 8;
    float acc[A];
    for (int i = 0; i < A; ++i) acc[i] = 0.001f * float(i);
    for (long it = 0; it < iters; ++it)
        for (int i = 0; i < A; ++i) acc[i] = acc[i] * 0.99999f + 1e-6f;
    float s = 0;
    for (int i = 0; i < A; ++i) s += acc[i];
    g_sink = s;
}

struct Kernel {
    const char *isa;
    int lanes, accumulators;
    void (*fn)(long);
};

std::vector<Kernel> available_kernels() {
    std::vector<Kernel> k;
#if M1C_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) k.push_back({"AVX-512", 16, 16, kernel_avx512});
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        k.push_back({"AVX2+FMA", 8, 12, kernel_avx2});
    k.push_back({"SSE (mul+add)", 4, 12, kernel_sse});
#elif M1C_NEON
    k.push_back({"NEON", 4, 24, kernel_neon});
#else
    k.push_back({"scalar", 1, 8, kernel_scalar});
#endif
    return k;
}

double seconds_of(const std::function<void()> &f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// GFLOP/s of `threads` threads each running `iters` iterations of the kernel.
double run_threads(const Kernel &k, int threads, long iters) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back([&] {
            ready.fetch_add(1);
            while (!go.load()) std::this_thread::yield();
            k.fn(iters);
        });
    while (ready.load() < threads - 1) std::this_thread::yield();
    const double s = seconds_of([&] {
        go.store(true);
        k.fn(iters);
        for (auto &th : pool) th.join();
    });
    return 2.0 * k.lanes * k.accumulators * double(iters) * threads / s * 1e-9;
}

}  // namespace

FmaPeak measure_fma_peak(int threads, double seconds, int repeats) {
    threads = std::max(threads, 1);
    FmaPeak best;
    best.threads = threads;
    for (const Kernel &k : available_kernels()) {
        // Calibrate the iteration count on one thread, then measure.
        long iters = 100000;
        double s = 0;
        while ((s = seconds_of([&] { k.fn(iters); })) < 0.02) iters *= 4;
        iters = std::max(1000L, long(double(iters) * seconds / s));
        double g = 0;
        for (int r = 0; r < std::max(repeats, 1); ++r) g = std::max(g, run_threads(k, threads, iters));
        if (g > best.gflops) {
            best.isa = k.isa;
            best.lanes = k.lanes;
            best.accumulators = k.accumulators;
            best.gflops = g;
        }
        (void)kernel_scalar;
    }
    return best;
}

}  // namespace m1c::cli
