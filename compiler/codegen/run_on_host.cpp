// run_on_host: the same lowering and default schedule, JIT-compiled for the host.
#include "codegen/codegen.h"
#include "codegen/lowered.h"
#include "core/error.h"
#include "passes/pipeline.h"
#include "schedule.h"

namespace m1c {

namespace {
// The JIT has its own copy of Halide's runtime; its thread count is set through it.
void set_jit_threads(const Halide::Target &target, int n) {
    using Halide::Internal::JITSharedRuntime;
    for (auto &module : JITSharedRuntime::get(nullptr, target, false)) {
        auto it = module.exports().find("halide_set_num_threads");
        if (it != module.exports().end() && it->second.address) {
            reinterpret_cast<int (*)(int)>(it->second.address)(n);
            return;
        }
    }
}
}  // namespace

std::vector<float> run_on_host(const Graph &fused, const InputShape &shape,
                               const std::vector<float> &input_nchw, int num_threads) {
    check_codegen_form(fused);
    const size_t expected = size_t(shape.batch) * 3 * shape.height * shape.width;
    if (input_nchw.size() != expected)
        throw Error("run_on_host: input has " + std::to_string(input_nchw.size()) +
                    " floats, expected " + std::to_string(expected) + " (" +
                    std::to_string(shape.batch) + "x3x" + std::to_string(shape.height) + "x" +
                    std::to_string(shape.width) + ")");
    if (num_threads < 0) throw Error("run_on_host: negative thread count");
    codegen::LoweredPipeline p = codegen::lower(fused, shape, /*external_weights=*/false);
    const Halide::Target target = Halide::get_host_target();
    schedules::apply_default_schedule(p, target);

    std::vector<float> in_copy = input_nchw;  // Halide wants a non-const host pointer
    Halide::Buffer<float> in(in_copy.data(), {shape.width, shape.height, 3, shape.batch});
    Halide::Buffer<float> out(p.num_classes, shape.batch);
    p.input.set(in);
    try {
        Halide::Pipeline pipeline(p.output);
        pipeline.compile_jit(target);
        set_jit_threads(target, num_threads);
        pipeline.realize(out);
    } catch (const Halide::Error &e) {
        throw Error(std::string("run_on_host: Halide: ") + e.what());
    }
    return std::vector<float>(out.data(), out.data() + out.number_of_elements());
}

}  // namespace m1c
