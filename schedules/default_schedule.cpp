// The default schedule: walks the ops and applies the templates. Decisions made here:
// which Func of an op is tiled, which depthwise ops are computed inside their consumer's
// row loop, and when rows are too few to parallelise over alone.
#include "schedule.h"
#include "templates.h"

namespace m1c::schedules {

namespace {
// With fewer output rows than this, parallelise over (channel tiles x rows) instead.
constexpr int kParallelRowsMin = 14;
}

ScheduleReport apply_default_schedule(codegen::LoweredPipeline &p, const Halide::Target &target) {
    using codegen::ConvKind;
    const CpuParams cp = cpu_params_for(target);
    ScheduleReport report;
    report.name = "default/" + cp.name;

    // The Func each dense op is tiled over: its output, or (squeeze-excite) a wrapper of
    // the conv that the mean and the scaled output both read.
    std::vector<Halide::Func> tiled(p.convs.size());
    std::vector<bool> rows(p.convs.size(), false);
    for (size_t i = 0; i < p.convs.size(); ++i) {
        auto &L = p.convs[i];
        if (L.kind != ConvKind::Dense) continue;
        tiled[i] = L.has_se ? L.pre.in() : L.out;
        rows[i] = L.out_h >= kParallelRowsMin;
    }

    for (size_t i = 0; i < p.convs.size(); ++i) {
        auto &L = p.convs[i];
        std::string line;
        if (L.kind == ConvKind::Dense) {
            line = schedule_dense(p, L, tiled[i], L.pre, rows[i], cp);
            if (L.has_se) {
                line += "; " + schedule_squeeze_excite(p, L, cp);
                schedule_elementwise_root(p, L.out, L.cout, cp);
            }
        } else if (L.has_se) {
            line = schedule_depthwise_root(p, L, L.pre, cp);
            line += "; " + schedule_squeeze_excite(p, L, cp);
            schedule_elementwise_root(p, L.out, L.cout, cp);
        } else {
            const bool fuse = i + 1 < p.convs.size() && p.convs[i + 1].kind == ConvKind::Dense &&
                              p.convs[i + 1].kernel == 1 && rows[i + 1];
            line = fuse ? schedule_depthwise_at(p, L, L.out, tiled[i + 1], p.y, cp)
                        : schedule_depthwise_root(p, L, L.out, cp);
        }
        report.ops.push_back(L.name + ": " + line);
    }
    report.ops.push_back(p.head.name + ": " + schedule_head(p, p.head, cp));
    return report;
}

}  // namespace m1c::schedules
