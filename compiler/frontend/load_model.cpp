#include "frontend/load_model.h"

#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/detect_spec.h"

namespace m1c {

Spec resolve_spec(const std::optional<std::string> &variant,
                  const std::optional<std::string> &spec_path) {
    if (variant && spec_path) throw Error("give either --variant or --spec, not both");
    if (spec_path) return load_spec_file(*spec_path);
    if (!variant) throw Error("no model given: use --variant (s0..s4), --spec FILE or --weights FILE");
    if (auto s = builtin_spec(*variant)) return *s;
    throw Error("--variant \"" + *variant + "\": unknown variant (known: s0, s1, s2, s3, s4)");
}

LoadedModel load_model(const ModelRequest &request, std::ostream &log) {
    LoadedModel model;
    model.weights_path = request.weights_path;
    TensorMap file_weights = load_checkpoint(request.weights_path);
    model.naming = detect_naming(file_weights, request.weights_path);
    model.weights = to_authors_naming(file_weights, model.naming);
    file_weights.clear();
    model.format = detect_weight_format(model.weights);
    model.has_head = has_head_keys(model.weights);
    const std::string what = std::string(naming_name(model.naming)) + " naming, " +
                             weight_format_name(model.format) +
                             (model.has_head ? "" : ", headless: no classifier");
    if (request.variant || request.spec_path) {
        model.spec = resolve_spec(request.variant, request.spec_path);
        model.spec_origin = request.spec_path ? "spec file " + *request.spec_path
                                              : "built-in variant " + model.spec.name;
        if (model.naming == Naming::Timm) check_timm_se_agrees(model.spec, request.weights_path);
        check_weights(model.spec, model.format, model.weights, request.weights_path, model.naming);
        if (model.naming == Naming::Timm || !model.has_head)
            log << "m1c: read " << request.weights_path << " (" << what << ")\n";
    } else {
        model.spec = detect_spec(model.weights, request.weights_path, model.naming);
        model.spec_origin = "detected from tensor shapes";
        log << "m1c: detected variant " << model.spec.name << " (";
        if (model.has_head) log << model.spec.num_classes << " classes, ";
        log << what << ") from the shapes in " << request.weights_path << "\n";
    }
    return model;
}

void require_head(const LoadedModel &model) {
    if (model.has_head) return;
    throw Error(model.weights_path + ": the checkpoint has no classifier head (no " +
                key_in_naming(model.naming, "linear.weight") +
                "): it is a headless encoder; a classifier build needs the head. Build a "
                "backbone instead: --features stage1,stage2,stage3,stage4 (any of them)");
}

}  // namespace m1c
