#include "codegen/targets.h"

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace m1c::codegen {

const char *target_examples() {
    return "host, x86-64-linux, x86-64-linux-avx2-fma, x86-64-linux-avx512, arm-64-linux, "
           "arm-64-android, arm-64-osx, arm-64-ios";
}

namespace {
bool cpu_has_avx512_fp16() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (d >> 23) & 1;  // CPUID.(EAX=7,ECX=0):EDX[23] AVX512-FP16
#else
    return false;
#endif
}
bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (c >> 11) & 1;  // CPUID.(EAX=7,ECX=0):ECX[11] AVX512_VNNI
#else
    return false;
#endif
}
}  // namespace

Halide::Target host_target_int8() {
    using T = Halide::Target;
    T t = host_target();
    if (t.arch == T::X86 && t.has_feature(T::AVX512_Skylake) && cpu_has_avx512_vnni())
        t = t.with_feature(T::AVX512_Cannonlake).with_feature(T::AVX512_SapphireRapids);
    return t;
}

Halide::Target parse_target(const std::string &text, bool int8) {
    if (int8 && text == "host") return host_target_int8();
    return parse_target(text);
}

Halide::Target host_target() {
    using T = Halide::Target;
    T t = Halide::get_host_target();
    if (t.arch == T::X86 && t.has_feature(T::AVX512_SapphireRapids) && !cpu_has_avx512_fp16())
        t = t.without_feature(T::AVX512_SapphireRapids);
    return t;
}

Halide::Target parse_target(const std::string &text) {
    using T = Halide::Target;
    if (text == "host") return host_target();
    if (text.empty() || !T::validate_target_string(text))
        throw Error("unknown target \"" + text + "\": expected \"host\" or a Halide target string (" +
                    target_examples() + ")");
    T t(text);
    const std::string why = "target \"" + text + "\": ";
    if (t.bits != 64 || (t.arch != T::X86 && t.arch != T::ARM))
        throw Error(why + "m1c generates code for 64-bit x86 and ARM CPUs only");
    if (t.os != T::Linux && t.os != T::Android && t.os != T::OSX && t.os != T::IOS)
        throw Error(why + "unsupported or missing OS (linux, android, osx, ios)");
    if (t.has_gpu_feature() || t.has_feature(T::NoRuntime) || t.has_feature(T::JIT))
        throw Error(why + "GPU, no_runtime and jit features are not supported");
    return t;
}

}  // namespace m1c::codegen
