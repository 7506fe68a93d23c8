#include "cli/model_options.h"

#include <regex>

#include "core/error.h"

namespace m1c::cli {
namespace {
std::optional<std::string> non_empty(const std::string &s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}
}  // namespace

void add_model_options(CLI::App *cmd, ModelOptions &o, bool weights_required) {
    auto *w = cmd->add_option("--weights,-w", o.weights,
                              "checkpoint: torch.save file (.pth/.pth.tar, train-time or "
                              "reparameterised) or .safetensors");
    if (weights_required) w->required();
    auto *v = cmd->add_option("--variant", o.variant, "built-in variant: s0, s1, s2, s3, s4");
    auto *s = cmd->add_option("--spec", o.spec, "custom architecture spec (JSON)");
    v->excludes(s);
}

void add_input_shape_options(CLI::App *cmd, ModelOptions &o) {
    cmd->add_option("--input-size", o.input_size, "input HxW, multiples of 32")
        ->capture_default_str();
    cmd->add_option("--batch", o.batch, "batch size (>= 1)")->capture_default_str();
}

ModelRequest ModelOptions::request() const {
    return ModelRequest{non_empty(variant), non_empty(spec), weights};
}

Spec ModelOptions::spec_only() const { return resolve_spec(non_empty(variant), non_empty(spec)); }

InputShape ModelOptions::input_shape() const {
    InputShape shape;
    parse_input_size(input_size, shape.height, shape.width);
    if (batch < 1 || batch > 1024)
        throw Error("--batch " + std::to_string(batch) + ": expected an integer in [1, 1024]");
    shape.batch = batch;
    return shape;
}

void parse_input_size(const std::string &text, int &height, int &width) {
    static const std::regex form("([0-9]{1,6})[xX]([0-9]{1,6})");
    std::smatch m;
    if (!std::regex_match(text, m, form))
        throw Error("--input-size \"" + text + "\": expected HxW, e.g. 224x224");
    height = std::stoi(m[1]);
    width = std::stoi(m[2]);
    for (int v : {height, width})
        if (v < 32 || v > 8192 || v % 32 != 0)
            throw Error("--input-size \"" + text + "\": " + std::to_string(v) +
                        " is not a multiple of 32 in [32, 8192] (MobileOne downsamples by 32)");
}

}  // namespace m1c::cli
