#include "codegen/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace m1c::codegen {

namespace {
#if defined(__x86_64__) || defined(__i386__)
bool bit(unsigned v, int b) { return (v >> b) & 1u; }
#endif
}  // namespace

CpuFeatures this_cpu_features() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    const unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
        f.sse41 = bit(c, 19);
        f.fma = bit(c, 12);
        f.avx = bit(c, 28);
        f.f16c = bit(c, 29);
        if (bit(c, 27)) {  // OSXSAVE: xgetbv reads XCR0
            unsigned lo = 0, hi = 0;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            f.os_avx = (lo & 0x6u) == 0x6u;        // SSE and AVX state
            f.os_avx512 = (lo & 0xe6u) == 0xe6u;   // + opmask, ZMM_Hi256, Hi16_ZMM
        }
    }
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        const unsigned sub_leaves = a;
        f.avx2 = bit(b, 5);
        f.avx512f = bit(b, 16);
        f.avx512dq = bit(b, 17);
        f.avx512ifma = bit(b, 21);
        f.avx512pf = bit(b, 26);
        f.avx512er = bit(b, 27);
        f.avx512cd = bit(b, 28);
        f.avx512bw = bit(b, 30);
        f.avx512vl = bit(b, 31);
        f.avx512vbmi = bit(c, 1);
        f.avx512_vnni = bit(c, 11);
        f.avx512_fp16 = bit(d, 23);
        if (sub_leaves >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
            f.avx_vnni = bit(a, 4);
            f.avx512_bf16 = bit(a, 5);
        }
    }
    if (__get_cpuid_max(0x80000000u, nullptr) >= 0x80000001u && __get_cpuid(0x80000001u, &a, &b, &c, &d))
        f.fma4 = bit(c, 16);
#elif defined(__aarch64__) && defined(__linux__)
    const unsigned long hw = getauxval(AT_HWCAP);
    f.arm_fp16 = (hw & (1ul << 9)) && (hw & (1ul << 10));  // HWCAP_FPHP, HWCAP_ASIMDHP
    f.arm_dot_prod = hw & (1ul << 20);                      // HWCAP_ASIMDDP
#endif
    return f;
}

Halide::Target restrict_to_cpu(const Halide::Target &target, const CpuFeatures &cpu,
                               std::vector<std::string> *dropped) {
    using T = Halide::Target;
    T t = target;
    auto require = [&](T::Feature feature, bool ok) {
        if (t.has_feature(feature) && !ok) {
            t = t.without_feature(feature);
            if (dropped) dropped->push_back(T::feature_to_name(feature));
        }
    };
    if (t.arch == T::X86) {
        require(T::SSE41, cpu.sse41);
        require(T::AVX, cpu.avx && cpu.os_avx);
        const bool avx = t.has_feature(T::AVX) || (cpu.avx && cpu.os_avx);
        require(T::AVX2, avx && cpu.avx2);
        require(T::FMA, avx && cpu.fma);
        require(T::FMA4, avx && cpu.fma4);
        require(T::F16C, avx && cpu.f16c);
        const bool f = avx && cpu.avx2 && cpu.avx512f && cpu.avx512cd && cpu.os_avx512;
        require(T::AVX512, f);
        require(T::AVX512_KNL, f && cpu.avx512pf && cpu.avx512er);
        const bool skx = f && cpu.avx512vl && cpu.avx512bw && cpu.avx512dq;
        require(T::AVX512_Skylake, skx);
        const bool cnl = skx && cpu.avx512ifma && cpu.avx512vbmi;
        require(T::AVX512_Cannonlake, cnl);
        require(T::AVX512_SapphireRapids,
                cnl && cpu.avx512_vnni && cpu.avx512_bf16 && cpu.avx512_fp16 && cpu.avx_vnni);
    } else if (t.arch == T::ARM && t.bits == 64) {
        require(T::ARMDotProd, cpu.arm_dot_prod);
        require(T::ARMFp16, cpu.arm_fp16);
    }
    return t;
}

}  // namespace m1c::codegen
