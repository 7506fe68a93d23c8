// trace_allocations: the pipeline JIT-compiled with a recording allocator and run once.
#include "codegen/allocation_trace.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "codegen/targets.h"
#include "core/error.h"

namespace m1c::codegen {

namespace {

// Halide's JIT allocator hooks are plain function pointers: the recorder they write to is
// global, and one trace runs at a time.
struct Recorder {
    AllocationTrace trace;
    std::map<void *, int> live;  // pointer -> index into trace.allocations
    std::string problem;
};
std::mutex g_mutex;
Recorder *g_recorder = nullptr;

void *trace_malloc(Halide::JITUserContext *, size_t bytes) {
    // Halide's own default: 32-byte aligned, with room to read a little past either end.
    void *p = std::aligned_alloc(64, (bytes + 64 + 63) / 64 * 64);
    if (!p) return nullptr;
    Recorder &r = *g_recorder;
    TracedAllocation a;
    a.bytes = int64_t(bytes);
    a.alloc_event = r.trace.events++;
    a.free_event = -1;
    r.live[p] = int(r.trace.allocations.size());
    r.trace.allocations.push_back(a);
    return p;
}

void trace_free(Halide::JITUserContext *, void *p) {
    Recorder &r = *g_recorder;
    auto it = r.live.find(p);
    if (it == r.live.end()) {
        r.problem = "halide_free of a pointer that is not live";
    } else {
        r.trace.allocations[size_t(it->second)].free_event = r.trace.events++;
        r.live.erase(it);
    }
    std::free(p);
}

}  // namespace

AllocationTrace trace_allocations(LoweredPipeline &p) {
    const InputShape &s = p.shape;
    Halide::Buffer<float> in(s.width, s.height, 3, s.batch);
    in.fill(0.0f);
    Halide::Buffer<float> weights;
    Halide::Buffer<int8_t> weights_i8;
    // The outputs: the logits, or the feature maps of a backbone build.
    std::vector<Halide::Buffer<>> out;
    if (p.features.empty()) out.push_back(Halide::Buffer<float>(p.num_classes, s.batch));
    for (const LoweredFeature &f : p.features) out.push_back(Halide::Buffer<float>(f.w, f.h, f.c, f.n));
    p.input.set(in);
    const bool external_i8 = p.weights.external() && p.weights.blob_i8_bytes() > 0;
    if (p.weights.external()) {
        weights = Halide::Buffer<float>(int(std::max<int64_t>(p.weights.blob_floats(), 1)));
        weights.fill(0.0f);
        Halide::ImageParam(p.weights.input()).set(weights);
    }
    if (external_i8) {
        weights_i8 = Halide::Buffer<int8_t>(int(p.weights.blob_i8_bytes()));
        weights_i8.fill(0);
        Halide::ImageParam(p.weights.input_i8()).set(weights_i8);
    }

    std::lock_guard<std::mutex> lock(g_mutex);
    Recorder recorder;
    g_recorder = &recorder;
    std::string failure;
    try {
        Halide::Pipeline pipeline(p.outputs());
        pipeline.jit_handlers().custom_malloc = trace_malloc;
        pipeline.jit_handlers().custom_free = trace_free;
        pipeline.compile_jit(host_target());
        pipeline.realize(Halide::Realization(out));
    } catch (const Halide::Error &e) {
        failure = e.what();
    }
    g_recorder = nullptr;
    // The parameters go back to unbound: the pipeline is compiled ahead of time next.
    p.input.reset();
    if (p.weights.external()) Halide::ImageParam(p.weights.input()).reset();
    if (external_i8) Halide::ImageParam(p.weights.input_i8()).reset();

    if (!failure.empty()) throw Error("allocation trace: Halide: " + failure);
    if (!recorder.problem.empty()) throw Error("allocation trace: " + recorder.problem);
    for (const auto &a : recorder.trace.allocations)
        if (a.free_event < 0) throw Error("allocation trace: a block was never freed");
    return recorder.trace;
}

}  // namespace m1c::codegen
