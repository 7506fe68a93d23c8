// The default schedule: the default knobs of every op (knobs.cpp: tiles, when rows are too
// few to parallelise over alone, which depthwise ops are computed inside their consumer's
// row loop) applied by the templates, plus the firmware-only storage decisions.
#include "schedule.h"
#include "knobs.h"
#include "templates.h"

namespace m1c::schedules {

ScheduleReport apply_default_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                      const ScheduleOptions &options) {
    using codegen::ConvKind;
    CpuParams cp = cpu_params_for(target);
    cp.single_threaded = options.single_threaded;
    ScheduleReport report;
    report.name = "default/" + cp.name + (cp.single_threaded ? "/single-threaded" : "");

    std::vector<OpKnobs> knobs = default_knobs(p, cp);
    if (options.outputs_at_root)
        for (OpKnobs &k : knobs) k.dw.inside = false;
    report.ops = apply_knobs(p, cp, knobs);
    std::vector<Halide::Func> tiled(p.convs.size());
    std::vector<bool> rows(p.convs.size(), false);
    for (size_t i = 0; i < p.convs.size(); ++i)
        if (p.convs[i].kind == ConvKind::Dense) {
            tiled[i] = tiled_func(p.convs[i]);
            rows[i] = knobs[i].dense.rows;
        }
    if (cp.single_threaded) {
        // Firmware: the stem's output (the largest activation of MobileOne) is line-buffered
        // instead of held whole: computed a few rows at a time inside the row loop of the
        // pointwise op that the stride-2 depthwise after it is fused into, in a circular
        // buffer of `fold` rows (S0 at 224x224: 86 KB instead of 2.4 MB). Only the stem:
        // nesting this through the whole chain multiplies Halide's compile time.
        if (p.convs.size() > 2 && p.convs[0].kind == ConvKind::Dense && !p.convs[0].has_se &&
            p.convs[1].kind == ConvKind::Depthwise && !p.convs[1].has_se &&
            p.convs[2].kind == ConvKind::Dense && p.convs[2].kernel == 1 && rows[2]) {
            int fold = 1;
            while (fold < p.convs[1].kernel) fold *= 2;
            tiled[0].compute_at(tiled[2], p.y).store_at(tiled[2], p.n).fold_storage(p.y, fold);
            report.ops.push_back(p.convs[0].name + ": line-buffered (" + std::to_string(fold) +
                                 " rows) inside " + p.convs[2].name + "'s row loop");
        }
        // A depthwise row computed inside its consumer's row loop is stored once per image
        // (one row, folded), not allocated anew for every row: one workspace block per op
        // instead of one per row when a row exceeds Halide's 16 KB stack limit.
        for (size_t i = 0; i + 1 < p.convs.size(); ++i) {
            auto &L = p.convs[i];
            if (L.kind == ConvKind::Depthwise && !L.has_se && p.convs[i + 1].kind == ConvKind::Dense &&
                p.convs[i + 1].kernel == 1 && rows[i + 1])
                L.out.store_at(tiled[i + 1], p.n);
        }
    }
    if (cp.single_threaded) {
        int serialized = 0;
        for (const Halide::Func &out : p.outputs()) serialized += serialize_parallel_loops(out);
        report.ops.push_back("single-threaded: " + std::to_string(serialized) +
                             " parallel loops made serial");
    }
    return report;
}

}  // namespace m1c::schedules
