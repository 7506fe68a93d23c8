// What instructions a generated library holds, read back with LLVM's disassembler (the
// LLVM 14 that Halide 14 uses): the dot products int8 kernels are meant to use, and any
// instruction the CPU it is meant for lacks. Halide 14 emits vpdpbusd only for the
// avx512_sapphirerapids feature, which also lets LLVM use AVX512-FP16 and VEX-encoded
// AVX-VNNI; on a CPU with AVX512-VNNI but neither (Zen 4), such an instruction would trap,
// so compile_library checks a host library before it is written (targets.h).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Halide.h>

namespace m1c::codegen {

struct IsaReport {
    bool scanned = false;        // false: not an ELF archive, or an architecture not read
    int64_t instructions = 0;
    // Instruction classes of interest -> count: "vpdpbusd zmm", "vpdpbusd (VEX, AVX-VNNI)",
    // "vpmaddwd", "vpmaddubsw", "vfmadd*ps", "avx512-fp16", "avx512-bf16"; "sdot", "udot",
    // "smull/smlal", "fmla". Apart from those (an instruction may count in both), x86
    // instructions naming the widest registers: "zmm registers (AVX-512)", "ymm registers (AVX)".
    std::map<std::string, int64_t> counts;
    // Per class, one example instruction as disassembled.
    std::map<std::string, std::string> examples;
};

// Disassembles the executable sections of static library `path` built for `target` (x86-64
// or AArch64). Throws m1c::Error if it cannot be read.
IsaReport scan_static_library(const std::string &path, const Halide::Target &target);

// The instruction classes of `report` that this machine's CPU lacks (AVX512-FP16, -BF16,
// -VNNI, AVX-VNNI, any AVX-512 or AVX register; cpu_features.h),
// with an example each; empty when the code can run here (or was not scanned).
std::vector<std::string> instructions_this_cpu_lacks(const IsaReport &report);

}  // namespace m1c::codegen
