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

ScheduleReport apply_default_schedule(codegen::LoweredPipeline &p, const Halide::Target &target,
                                      const ScheduleOptions &options) {
    using codegen::ConvKind;
    CpuParams cp = cpu_params_for(target);
    cp.single_threaded = options.single_threaded;
    ScheduleReport report;
    report.name = "default/" + cp.name + (cp.single_threaded ? "/single-threaded" : "");

    // The Func each dense op is tiled over: its output, or (squeeze-excite) a wrapper of
    // the conv that the mean and the scaled output both read.
    std::vector<Halide::Func> tiled(p.convs.size());
    std::vector<bool> rows(p.convs.size(), false);
    for (size_t i = 0; i < p.convs.size(); ++i) {
        auto &L = p.convs[i];
        if (L.kind != ConvKind::Dense) continue;
        tiled[i] = L.has_se ? L.pre.in() : L.out;
        // Single-threaded (firmware): always by rows, so that every depthwise op feeding a
        // pointwise one is computed a row at a time inside it (small intermediates).
        rows[i] = cp.single_threaded || L.out_h >= kParallelRowsMin;
    }

    for (size_t i = 0; i < p.convs.size(); ++i) {
        auto &L = p.convs[i];
        std::string line;
        if (L.kind == ConvKind::Dense) {
            if (L.from_image && L.padded.defined() && !cp.single_threaded)
                line = schedule_padded_image(p, L, cp) + "; ";
            line += schedule_dense(p, L, tiled[i], L.pre, rows[i], cp);
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
        const int serialized = serialize_parallel_loops(p.output);
        report.ops.push_back("single-threaded: " + std::to_string(serialized) +
                             " parallel loops made serial");
    }
    return report;
}

}  // namespace m1c::schedules
