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
    model.weights = load_checkpoint(request.weights_path);
    model.format = detect_weight_format(model.weights);
    if (request.variant || request.spec_path) {
        model.spec = resolve_spec(request.variant, request.spec_path);
        model.spec_origin = request.spec_path ? "spec file " + *request.spec_path
                                              : "built-in variant " + model.spec.name;
        check_weights(model.spec, model.format, model.weights, request.weights_path);
    } else {
        model.spec = detect_spec(model.weights, request.weights_path);
        model.spec_origin = "detected from tensor shapes";
        log << "m1c: detected variant " << model.spec.name << " (" << model.spec.num_classes
            << " classes, " << weight_format_name(model.format) << ") from the shapes in "
            << request.weights_path << "\n";
    }
    return model;
}

}  // namespace m1c
