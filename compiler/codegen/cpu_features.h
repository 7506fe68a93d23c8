// What this CPU and its operating system really support, read from cpuid and xgetbv (x86-64)
// or the auxiliary vector (AArch64 Linux), and a Halide target restricted to it.
//
// Why: Halide 14's get_host_target() trusts a few cpuid bits per feature family and takes,
// e.g., a Zen 4 (AVX512-BF16 and -VNNI, no AVX512-FP16, no AVX-VNNI) for Sapphire Rapids
// (halide/Halide#7834), whose LLVM CPU model then emits instructions the Zen 4 traps on. It
// also ignores whether the OS saves the AVX/AVX-512 register state (XCR0), as a VM or a
// kernel booted with AVX-512 off may not. `--target host` keeps a Halide feature only when
// every CPU feature its code generation may use is reported (see restrict_to_cpu).
#pragma once
#include <string>
#include <vector>

#include <Halide.h>

namespace m1c::codegen {

struct CpuFeatures {
    // x86-64: cpuid leaf 1, 7 (sub-leaves 0 and 1) and 0x80000001
    bool sse41 = false, avx = false, avx2 = false, fma = false, fma4 = false, f16c = false;
    bool avx512f = false, avx512cd = false, avx512vl = false, avx512bw = false, avx512dq = false;
    bool avx512ifma = false, avx512vbmi = false, avx512pf = false, avx512er = false;
    bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false, avx_vnni = false;
    // XCR0: the OS saves the YMM state (AVX) / the opmask and ZMM state (AVX-512)
    bool os_avx = false, os_avx512 = false;
    // AArch64 (HWCAP): SDOT/UDOT, half-precision arithmetic
    bool arm_dot_prod = false, arm_fp16 = false;
};

// This machine's features (all false on an architecture not read).
CpuFeatures this_cpu_features();

// `target` without every feature the CPU `cpu` cannot run, and without the features built on
// a dropped one (no AVX: no AVX2, FMA, F16C, AVX-512; no AVX512_Skylake: no Cannonlake,
// SapphireRapids). Halide feature -> what it needs:
//   sse41: SSE4.1; avx, avx2, fma, fma4, f16c: that + OS AVX state;
//   avx512: AVX512F+CD + OS AVX-512 state; avx512_knl: +PF+ER; avx512_skylake: +VL+BW+DQ;
//   avx512_cannonlake: +IFMA+VBMI; avx512_sapphirerapids: +VNNI+BF16, and AVX512-FP16 and
//   AVX-VNNI (Halide selects LLVM's "sapphirerapids" CPU, which uses both);
//   arm_dot_prod: asimddp; arm_fp16: fphp+asimdhp.
// Only targets of the host's architecture are restricted. `dropped` (optional) gets the
// names of the features removed.
Halide::Target restrict_to_cpu(const Halide::Target &target, const CpuFeatures &cpu,
                               std::vector<std::string> *dropped = nullptr);

}  // namespace m1c::codegen
