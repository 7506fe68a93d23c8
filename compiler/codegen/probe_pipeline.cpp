// ProbePipeline: see probe_pipeline.h.
#include "codegen/probe_pipeline.h"

#include "codegen/jit_runtime.h"
#include "codegen/lowered.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "passes/pipeline.h"
#include "schedule.h"

namespace m1c {

struct ProbePipeline::Impl {
    codegen::LoweredPipeline lowered{false};
    Halide::Target target;
    Halide::Pipeline pipeline;
    std::vector<Halide::Func> taps;       // per conv op, then the pooled features
    std::vector<std::array<int, 4>> dims;  // (C, W, H, N) of each conv tap; pooled (F, N)
    std::vector<std::string> names;
    InputShape shape;
    int threads = 0;
    bool head = false;  // a classifier: the pooled features and the logits too (not a backbone)
};

ProbePipeline::ProbePipeline(const Graph &fused, const InputShape &shape)
    : impl_(std::make_unique<Impl>()) {
    check_codegen_form(fused);
    Impl &m = *impl_;
    m.shape = shape;
    const bool int8 = codegen::is_int8_graph(fused);
    m.target = int8 ? codegen::host_target_int8() : codegen::host_target();
    m.lowered = codegen::lower_any(fused, shape, false, codegen::WeightsDType::F32, m.target);
    codegen::LoweredPipeline &p = m.lowered;
    schedules::ScheduleOptions options;
    options.outputs_at_root = true;
    schedules::apply_default_schedule(p, m.target, options);

    std::vector<Halide::Func> outputs;
    size_t conv = 0;
    for (const Op &op : fused.ops) {
        if (!op.is<Conv2dAttrs>()) continue;
        const codegen::LoweredConv &L = p.convs.at(conv++);
        const Value &v = fused.values.at(op.output);
        Halide::Func tap(L.out.name() + "_probe");
        tap(p.c, p.x, p.y, p.n) = codegen::real_value(p, L, v);
        // Constant bounds: with 40+ outputs of unknown size, Halide's loop partitioning
        // and LLVM took minutes on symbolic bounds; known shapes make it seconds.
        tap.bound(p.c, 0, v.c).bound(p.x, 0, v.w).bound(p.y, 0, v.h).bound(p.n, 0, v.n);
        tap.vectorize(p.c, 8, Halide::TailStrategy::GuardWithIf);
        m.taps.push_back(tap);
        m.dims.push_back({v.c, v.w, v.h, v.n});
        m.names.push_back(op.name);
    }
    outputs = m.taps;
    m.head = p.output.defined();
    if (m.head) {
        // The pooled features: the mean (float32), or the quantized mean dequantized (int8).
        const codegen::LoweredHead &h = p.head;
        Halide::Func pooled(h.pool.name() + "_probe");
        if (p.precision == codegen::Precision::F32) {
            pooled(p.c, p.n) = h.pool(p.c, p.n) / float(h.in_h * h.in_w);
        } else {
            const QuantParams &q = *fused.ops.back().as<LinearAttrs>().pooled_quant;
            pooled(p.c, p.n) =
                (Halide::cast<float>(h.pooled(p.c, p.n)) - float(q.zero_point + p.act_offset)) * q.scale;
        }
        pooled.bound(p.c, 0, h.features).bound(p.n, 0, h.batch);
        m.taps.push_back(pooled);
        m.dims.push_back({h.features, h.batch, 1, 1});
        m.names.push_back(h.name + ".pooled");
        outputs = m.taps;
        outputs.push_back(p.output);
    }
    try {
        m.pipeline = Halide::Pipeline(outputs);
        m.pipeline.compile_jit(m.target);
    } catch (const Halide::Error &e) {
        throw Error(std::string("probe pipeline: Halide: ") + e.what());
    }
}

ProbePipeline::~ProbePipeline() = default;

const std::vector<std::string> &ProbePipeline::names() const { return impl_->names; }
const InputShape &ProbePipeline::shape() const { return impl_->shape; }

void ProbePipeline::set_num_threads(int n) {
    if (n < 0) throw Error("ProbePipeline: negative thread count");
    impl_->threads = n;
}

ProbeResult ProbePipeline::run(const float *input_nchw) {
    Impl &m = *impl_;
    const InputShape &s = m.shape;
    Halide::Buffer<float> in(const_cast<float *>(input_nchw), {s.width, s.height, 3, s.batch});
    m.lowered.input.set(in);
    ProbeResult result;
    std::vector<Halide::Buffer<>> buffers;
    const size_t convs = m.taps.size() - (m.head ? 1 : 0);
    result.ops.resize(convs);
    for (size_t i = 0; i < convs; ++i) {
        const auto &d = m.dims[i];
        result.ops[i].resize(size_t(d[0]) * d[1] * d[2] * d[3]);
        buffers.push_back(Halide::Buffer<float>(result.ops[i].data(), {d[0], d[1], d[2], d[3]}));
    }
    if (m.head) {
        const auto &pd = m.dims.back();
        result.pooled.resize(size_t(pd[0]) * pd[1]);
        buffers.push_back(Halide::Buffer<float>(result.pooled.data(), {pd[0], pd[1]}));
        result.logits.resize(size_t(m.lowered.num_classes) * s.batch);
        buffers.push_back(Halide::Buffer<float>(result.logits.data(), {m.lowered.num_classes, s.batch}));
    }
    codegen::jit_set_num_threads(m.target, m.threads);
    try {
        m.pipeline.realize(Halide::Realization(buffers), m.target);
    } catch (const Halide::Error &e) {
        throw Error(std::string("probe pipeline: Halide: ") + e.what());
    }
    return result;
}

}  // namespace m1c
