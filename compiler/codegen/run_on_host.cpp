// HostPipeline / run_on_host: the same lowering and default schedule as `m1c compile`,
// JIT-compiled for the host.
#include <iostream>
#include <map>

#include <HalideRuntime.h>

#include "codegen/codegen.h"
#include "codegen/jit_runtime.h"
#include "codegen/lowered.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "passes/pipeline.h"
#include "schedule.h"

namespace m1c {

using codegen::jit_runtime_symbol;

struct HostPipeline::Impl {
    // Profiled builds: Halide's JIT realize() prints the profiler's report after every run
    // and resets it. The report's print goes to this context's handler, which takes the
    // per-Func times from the profiler state at that point (before the reset) and drops
    // the text.
    struct ProfileContext : Halide::JITUserContext {
        Impl *impl = nullptr;
        bool pending = false;
    };
    static void on_profile_print(Halide::JITUserContext *user, const char *) {
        auto *ctx = static_cast<ProfileContext *>(user);
        if (!ctx || !ctx->impl || !ctx->pending) return;
        ctx->pending = false;
        ctx->impl->take_profile();
    }
    void take_profile() {
        auto *get_state = reinterpret_cast<halide_profiler_state *(*)()>(
            jit_runtime_symbol(target, "halide_profiler_get_state"));
        if (!get_state) return;
        // The report holds the state's lock while it prints (this thread).
        const halide_profiler_state *s = get_state();
        for (auto *p = s->pipelines; p; p = static_cast<halide_profiler_pipeline_stats *>(p->next)) {
            if (p->runs <= 0) continue;
            ++profiled_runs;
            for (int i = 0; i < p->num_funcs; ++i) {
                const std::string name = p->funcs[i].name ? p->funcs[i].name : "?";
                auto it = profile_index.find(name);
                if (it == profile_index.end()) {
                    it = profile_index.emplace(name, profile.size()).first;
                    profile.push_back({name, 0.0});
                }
                profile[it->second].seconds += double(p->funcs[i].time) * 1e-9;
            }
        }
    }
    std::vector<FuncTime> profile;
    std::map<std::string, size_t> profile_index;
    int profiled_runs = 0;
    // Runs the pipeline on `input_nchw` into `outputs` (the logits, or the feature maps).
    void realize(const float *input_nchw, std::vector<Halide::Buffer<>> &outputs);

    codegen::LoweredPipeline lowered{false};
    Halide::Target target;
    Halide::Pipeline pipeline;
    schedules::ScheduleReport report;
    std::vector<std::pair<std::string, std::string>> op_funcs;
    std::vector<std::pair<std::string, std::array<int, 4>>> feature_shapes;
    InputShape shape;
    bool profiling = false;
    int threads = 0;
};

HostPipeline::HostPipeline(const Graph &fused, const InputShape &shape, bool profile,
                           const codegen::ScheduleChoice &schedule, const Halide::Target &target)
    : impl_(std::make_unique<Impl>()) {
    check_codegen_form(fused);
    Impl &m = *impl_;
    m.shape = shape;
    m.profiling = profile;
    const bool int8 = codegen::is_int8_graph(fused);
    // Without features the CPU lacks; int8 with AVX512-VNNI where the CPU has it (targets.h).
    m.target = int8 ? codegen::host_target_int8() : codegen::host_target();
    if (target.arch != Halide::Target::ArchUnknown) m.target = target;
    m.lowered = codegen::lower_any(fused, shape, /*external_weights=*/false,
                                   codegen::WeightsDType::F32, m.target);
    if (profile) m.target = m.target.with_feature(Halide::Target::Profile);
    m.report = codegen::apply_schedule(m.lowered, m.target, schedule, std::cerr);
    // Func names are the op's C name (+ "_conv", "_se_sum", ...), plus the "$N" Halide
    // appends when a name is used again in the process.
    auto base = [](const std::string &name) { return name.substr(0, name.find('$')); };
    for (const auto &L : m.lowered.convs) m.op_funcs.emplace_back(L.name, base(L.out.name()));
    for (const codegen::LoweredFeature &f : m.lowered.features)
        m.feature_shapes.push_back({f.name, {f.n, f.c, f.h, f.w}});
    if (m.lowered.features.empty()) {
        std::string head = base(m.lowered.head.logits.name());
        if (head.size() > 7 && head.compare(head.size() - 7, 7, "_logits") == 0) head.resize(head.size() - 7);
        m.op_funcs.emplace_back(m.lowered.head.name, head);
    }
    try {
        m.pipeline = Halide::Pipeline(m.lowered.outputs());
        m.pipeline.compile_jit(m.target);
    } catch (const Halide::Error &e) {
        throw Error(std::string("JIT compile: Halide: ") + e.what());
    }
}

HostPipeline::~HostPipeline() = default;

void HostPipeline::set_num_threads(int n) {
    if (n < 0) throw Error("HostPipeline: negative thread count");
    impl_->threads = n;
}

void HostPipeline::run(const float *input_nchw, float *logits) {
    Impl &m = *impl_;
    if (!m.lowered.features.empty()) throw Error("HostPipeline::run: a backbone build; use run_features");
    std::vector<Halide::Buffer<>> out{Halide::Buffer<float>(logits, {m.lowered.num_classes, m.shape.batch})};
    m.realize(input_nchw, out);
}

void HostPipeline::run_features(const float *input_nchw, float *const *features) {
    Impl &m = *impl_;
    if (m.lowered.features.empty()) throw Error("HostPipeline::run_features: a classifier build; use run");
    std::vector<Halide::Buffer<>> out;
    for (size_t i = 0; i < m.lowered.features.size(); ++i) {
        const codegen::LoweredFeature &f = m.lowered.features[i];
        out.push_back(Halide::Buffer<float>(features[i], {f.w, f.h, f.c, f.n}));
    }
    m.realize(input_nchw, out);
}

const std::vector<std::pair<std::string, std::array<int, 4>>> &HostPipeline::feature_shapes() const {
    return impl_->feature_shapes;
}

void HostPipeline::Impl::realize(const float *input_nchw, std::vector<Halide::Buffer<>> &outputs) {
    Impl &m = *this;
    // Halide wants non-const host pointers; an input is never written.
    Halide::Buffer<float> in(const_cast<float *>(input_nchw),
                             {m.shape.width, m.shape.height, 3, m.shape.batch});
    Halide::Realization out(outputs);
    m.lowered.input.set(in);
    // Applied on every run, as N_run does: the thread pool is one per process.
    codegen::jit_set_num_threads(m.target, m.threads);
    try {
        if (m.profiling) {
            Impl::ProfileContext ctx;
            ctx.impl = &m;
            ctx.pending = true;
            ctx.handlers.custom_print = &Impl::on_profile_print;
            m.pipeline.realize(&ctx, out, m.target);
        } else {
            m.pipeline.realize(out, m.target);
        }
    } catch (const Halide::Error &e) {
        throw Error(std::string("run on host: Halide: ") + e.what());
    }
}

std::vector<float> HostPipeline::run(const std::vector<float> &input_nchw) {
    const InputShape &s = impl_->shape;
    const size_t expected = size_t(s.batch) * 3 * s.height * s.width;
    if (input_nchw.size() != expected)
        throw Error("run_on_host: input has " + std::to_string(input_nchw.size()) +
                    " floats, expected " + std::to_string(expected) + " (" +
                    std::to_string(s.batch) + "x3x" + std::to_string(s.height) + "x" +
                    std::to_string(s.width) + ")");
    std::vector<float> logits(size_t(s.batch) * impl_->lowered.num_classes);
    run(input_nchw.data(), logits.data());
    return logits;
}

const InputShape &HostPipeline::shape() const { return impl_->shape; }
int HostPipeline::num_classes() const { return impl_->lowered.num_classes; }
std::string HostPipeline::target() const { return impl_->target.to_string(); }
const std::string &HostPipeline::schedule_name() const { return impl_->report.name; }
const std::vector<std::string> &HostPipeline::schedule_ops() const { return impl_->report.ops; }
const std::vector<std::pair<std::string, std::string>> &HostPipeline::op_funcs() const {
    return impl_->op_funcs;
}

void HostPipeline::reset_profile() {
    impl_->profile.clear();
    impl_->profile_index.clear();
    impl_->profiled_runs = 0;
}

std::vector<HostPipeline::FuncTime> HostPipeline::profile(int *runs) const {
    if (runs) *runs = impl_->profiled_runs;
    return impl_->profile;
}

std::vector<float> run_on_host(const Graph &fused, const InputShape &shape,
                               const std::vector<float> &input_nchw, int num_threads,
                               const codegen::ScheduleChoice &schedule) {
    check_codegen_form(fused);
    const size_t expected = size_t(shape.batch) * 3 * shape.height * shape.width;
    if (input_nchw.size() != expected)
        throw Error("run_on_host: input has " + std::to_string(input_nchw.size()) +
                    " floats, expected " + std::to_string(expected) + " (" +
                    std::to_string(shape.batch) + "x3x" + std::to_string(shape.height) + "x" +
                    std::to_string(shape.width) + ")");
    if (num_threads < 0) throw Error("run_on_host: negative thread count");
    HostPipeline pipeline(fused, shape, /*profile=*/false, schedule);
    pipeline.set_num_threads(num_threads);
    return pipeline.run(input_nchw);
}

}  // namespace m1c
