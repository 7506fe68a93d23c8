// The one way every command gets a model: weights from a checkpoint, the spec from
// --variant, --spec or detection, checked against each other.
#pragma once
#include <optional>
#include <ostream>
#include <string>

#include "core/tensor.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"

namespace m1c {

struct LoadedModel {
    Spec spec;
    std::string spec_origin;  // "built-in variant s0", "spec file x.json", "detected from shapes"
    std::string weights_path;
    WeightFormat format = WeightFormat::TrainTime;
    Naming naming = Naming::Authors;  // how the file names its keys (weights: authors')
    bool has_head = true;  // false: a headless encoder (no classifier), backbone builds only
    TensorMap weights;     // in the authors' naming whatever the file's
};

// Throws m1c::Error unless the model has its classifier head: what a classifier build
// (no --features) says about a headless checkpoint.
void require_head(const LoadedModel &model);

struct ModelRequest {
    std::optional<std::string> variant;    // built-in name, e.g. "s0"
    std::optional<std::string> spec_path;  // custom JSON spec
    std::string weights_path;
};

// Loads and checks. Says on `log` which variant was detected when none was given.
// Throws m1c::Error with a message naming the file, key and shapes on any mismatch.
LoadedModel load_model(const ModelRequest &request, std::ostream &log);

// Resolves --variant/--spec alone (no weights), e.g. for `m1c inspect --variant s0`.
Spec resolve_spec(const std::optional<std::string> &variant,
                  const std::optional<std::string> &spec_path);

}  // namespace m1c
