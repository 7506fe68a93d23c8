// The machine's floating-point peak, measured: a loop of independent vector FMAs (enough
// accumulators to cover the FMA latency on every FMA port) on 1..N threads at once.
#pragma once
#include <string>
#include <vector>

namespace m1c::cli {

struct FmaPeak {
    std::string isa;    // "AVX-512", "AVX2+FMA", "SSE (mul+add)", "NEON", "scalar"
    int lanes = 1;      // float lanes of one vector
    int accumulators = 1;
    double gflops = 0;  // all threads together (2 flops per lane per FMA)
    int threads = 1;
};

// The best over the vector ISAs this CPU supports, on `threads` threads (each running the
// same loop for about `seconds`); the best of `repeats` measurements.
FmaPeak measure_fma_peak(int threads, double seconds = 0.1, int repeats = 3);

}  // namespace m1c::cli
