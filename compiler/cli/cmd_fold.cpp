// m1c fold: writes the reparameterised (folded) weights as .safetensors with the authors'
// inference-mode key names (--names timm: timm's), for use by other tools.
#include <iostream>

#include "cli/command.h"
#include "cli/model_options.h"
#include "core/error.h"
#include "frontend/checkpoint.h"
#include "frontend/naming.h"
#include "ir/fused_state_dict.h"
#include "passes/pipeline.h"

namespace m1c::cli {
namespace {

struct FoldOptions {
    ModelOptions model;
    std::string out;
    std::string names = "authors";
};

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void run(const FoldOptions &o) {
    if (!ends_with(o.out, ".safetensors"))
        throw Error("--out " + o.out + ": m1c writes folded weights as .safetensors; name the file *.safetensors");
    LoadedModel model = load_model(o.model.request(), std::cerr);
    Graph graph = build_graph(model.spec, model.format, model.weights, InputShape{});
    Graph fused = fold_and_fuse(std::move(graph));
    TensorMap folded = fused_state_dict(fused);
    if (o.names == "timm") folded = to_timm_naming(folded);
    save_safetensors(o.out, folded);
    std::cerr << "m1c: wrote " << folded.size() << " folded tensors of " << model.spec.name
              << " (" << o.names << " names) to " << o.out << "\n";
}

void setup(CLI::App &app) {
    auto options = std::make_shared<FoldOptions>();
    CLI::App *cmd = app.add_subcommand("fold", "fold the train-time branches and write the reparameterised weights");
    add_model_options(cmd, options->model, /*weights_required=*/true);
    cmd->add_option("--out,-o", options->out, "output .safetensors file")->required();
    cmd->add_option("--names", options->names, "key naming of the output: authors or timm")
        ->check(CLI::IsMember({"authors", "timm"}))
        ->capture_default_str();
    cmd->callback([options] { run(*options); });
}

CommandRegistration registration(20, setup);

}  // namespace
}  // namespace m1c::cli
