// Target -> the few numbers the templates are parameterised by.
#include "schedule.h"

namespace m1c::schedules {

CpuParams cpu_params_for(const Halide::Target &t) {
    using T = Halide::Target;
    CpuParams p;
    if (t.arch == T::X86 && t.has_feature(T::AVX512)) {
        p = {"x86-avx512", 16, 32, 1};
    } else if (t.arch == T::X86 && t.has_feature(T::AVX2)) {
        p = {"x86-avx2", 8, 16};
    } else if (t.arch == T::X86 && t.has_feature(T::AVX)) {
        p = {"x86-avx", 8, 16};
    } else if (t.arch == T::X86) {
        p = {"x86-sse", 4, 16};
    } else if (t.arch == T::ARM && t.bits == 64) {
        p = {"arm64-neon", 4, 32};
    } else {
        p = {"generic", 4, 16};
    }
    // Whatever the table says, never exceed what Halide considers natural for the target.
    int natural = t.natural_vector_size(Halide::Float(32));
    if (natural > 0 && natural < p.vector_floats) p.vector_floats = natural;
    return p;
}

}  // namespace m1c::schedules
