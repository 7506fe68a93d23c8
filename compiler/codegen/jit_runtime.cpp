#include "codegen/jit_runtime.h"

namespace m1c::codegen {

void *jit_runtime_symbol(const Halide::Target &target, const char *name) {
    using Halide::Internal::JITSharedRuntime;
    for (auto &module : JITSharedRuntime::get(nullptr, target, false)) {
        auto it = module.exports().find(name);
        if (it != module.exports().end() && it->second.address) return it->second.address;
    }
    return nullptr;
}

void jit_set_num_threads(const Halide::Target &target, int n) {
    if (auto *fn = reinterpret_cast<int (*)(int)>(jit_runtime_symbol(target, "halide_set_num_threads")))
        fn(n);
}

}  // namespace m1c::codegen
