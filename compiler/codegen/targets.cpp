#include "codegen/targets.h"

#include "codegen/cpu_features.h"
#include "core/error.h"

namespace m1c::codegen {

const char *target_examples() {
    return "host, x86-64-linux, x86-64-linux-avx2-fma, x86-64-linux-avx512, arm-64-linux, "
           "arm-64-android, arm-64-osx, arm-64-ios";
}

Halide::Target host_target_int8() {
    using T = Halide::Target;
    T t = host_target();
    if (t.arch == T::X86 && t.has_feature(T::AVX512_Skylake) && this_cpu_features().avx512_vnni)
        t = t.with_feature(T::AVX512_Cannonlake).with_feature(T::AVX512_SapphireRapids);
    return t;
}

Halide::Target parse_target(const std::string &text, bool int8) {
    if (int8 && text == "host") return host_target_int8();
    return parse_target(text);
}

Halide::Target host_target() {
    return restrict_to_cpu(Halide::get_host_target(), this_cpu_features());
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
