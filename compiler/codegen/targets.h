// Target strings for `m1c compile --target`: Halide target strings ("x86-64-linux-avx2-fma",
// "arm-64-android", ...) or "host", restricted to what m1c generates code for: 64-bit x86
// and ARM CPUs on Linux, Android, macOS and iOS.
#pragma once
#include <string>

#include <Halide.h>

namespace m1c::codegen {

// Throws m1c::Error naming `text` when it is not a valid, supported target.
Halide::Target parse_target(const std::string &text);

// Halide::get_host_target() restricted to what cpuid/xgetbv (AArch64: HWCAP) report
// (cpu_features.h): Halide 14 reports avx512_sapphirerapids for CPUs with AVX512-BF16 and
// then lets LLVM use AVX512-FP16 and AVX-VNNI instructions (e.g. vmovw for float16 loads),
// which a CPU without them (Zen 4) traps on; every other feature is checked the same way.
Halide::Target host_target();

// The host target for int8 pipelines: host_target(), plus avx512_sapphirerapids when the CPU
// has AVX512-VNNI, since Halide 14 emits vpdpbusd only for that feature (it also lets LLVM
// use AVX512-FP16 and AVX-VNNI, which e.g. Zen 4 lacks: the int8 lowering avoids what would
// produce them, and compile_library checks the object code; see isa_check.h).
Halide::Target host_target_int8();

// parse_target for a pipeline of this precision: "host" is host_target_int8() for int8.
Halide::Target parse_target(const std::string &text, bool int8);

// Examples for messages and --help.
const char *target_examples();

}  // namespace m1c::codegen
