// m1c inspect: the per-layer table and the train-time vs folded totals of a model.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/feature_options.h"
#include "cli/model_options.h"
#include "codegen/codegen.h"
#include "ir/graph_stats.h"
#include "passes/passes.h"
#include "passes/pipeline.h"

namespace m1c::cli {
namespace {

struct InspectOptions {
    ModelOptions model;
    bool json = false;
    bool train_layers = false;
    bool memory = false;         // --memory: firmware workspace plan and library sizes
    std::string target = "host"; // for --memory
    FeatureOptions features;     // --features: the backbone's graph (no head)
};

nlohmann::json shape_json(const Value &v) { return {v.n, v.c, v.h, v.w}; }

nlohmann::json layer_json(const Graph &g, const Op &op) {
    OpStats s = op_stats(g, op);
    nlohmann::json j = {{"name", op.name}, {"op", op_kind_name(op)},
                        {"in", shape_json(g.values[op.inputs.at(0)])},
                        {"out", shape_json(g.values[op.output])},
                        {"params", s.params}, {"macs", s.macs}};
    if (op.is<Conv2dAttrs>()) {
        const Conv2dAttrs &c = op.as<Conv2dAttrs>();
        j["kernel"] = c.kernel;
        j["stride"] = c.stride;
        j["groups"] = c.groups;
        if (c.dilation > 1) j["dilation"] = c.dilation;
    }
    return j;
}

std::string shape_text(const nlohmann::json &s) {
    return std::to_string(s[0].get<int>()) + "x" + std::to_string(s[1].get<int>()) + "x" +
           std::to_string(s[2].get<int>()) + "x" + std::to_string(s[3].get<int>());
}

void print_table(const nlohmann::json &report) {
    std::printf("%-28s %-22s %3s %3s %5s %-16s %-16s %10s %12s\n", "layer", "op", "k", "s",
                "groups", "in", "out", "params", "MACs");
    for (const auto &l : report["layers"]) {
        auto num = [&](const char *key) {
            return l.contains(key) ? std::to_string(l[key].get<int>()) : std::string("-");
        };
        std::printf("%-28s %-22s %3s %3s %5s %-16s %-16s %10lld %12lld\n",
                    l["name"].get<std::string>().c_str(), l["op"].get<std::string>().c_str(),
                    num("kernel").c_str(), num("stride").c_str(), num("groups").c_str(),
                    shape_text(l["in"]).c_str(), shape_text(l["out"]).c_str(),
                    (long long)l["params"].get<int64_t>(), (long long)l["macs"].get<int64_t>());
    }
    for (const char *which : {"train", "fused"}) {
        const auto &t = report[which];
        std::printf("%-6s graph: %3d ops, %10lld params (%.2fM), %12lld MACs (%.3fG)\n", which,
                    t["ops"].get<int>(), (long long)t["params"].get<int64_t>(),
                    t["params"].get<int64_t>() / 1e6, (long long)t["macs"].get<int64_t>(),
                    t["macs"].get<int64_t>() / 1e9);
    }
}

nlohmann::json totals_json(const Graph &g) {
    OpStats s = graph_stats(g);
    return {{"ops", g.ops.size()}, {"params", s.params}, {"macs", s.macs}};
}

void run(const InspectOptions &o) {
    InputShape shape = o.model.input_shape();
    Spec spec;
    Graph given;  // the graph the weights describe (train-time or fused)
    std::optional<LoadedModel> model;
    if (!o.model.weights.empty()) {
        model = load_model(o.model.request(), std::cerr);
        spec = model->spec;
        given = build_graph(spec, model->format, model->weights, shape);
    } else {
        spec = o.model.spec_only();
        given = build_shape_graph(spec, WeightFormat::TrainTime, shape);
    }
    // Totals of the train-time graph come from shapes alone, so fused checkpoints get them too.
    Graph train = (model && model->format == WeightFormat::TrainTime)
                      ? given
                      : build_shape_graph(spec, WeightFormat::TrainTime, shape);
    Graph fused = fold_and_fuse(std::move(given));
    const bool headless = model && !model->has_head;
    if (o.features.backbone()) {
        select_backbone(o.features, fused);
    } else if (headless && o.memory) {
        require_head(*model);  // the memory report compiles a classifier
    }

    nlohmann::json report = {
        {"variant", spec.name},
        {"spec", spec_to_json(spec)},
        {"input", {shape.batch, 3, shape.height, shape.width}},
        {"weights", model ? nlohmann::json(model->weights_path) : nlohmann::json(nullptr)},
        {"weights_format", model ? nlohmann::json(weight_format_name(model->format)) : nlohmann::json(nullptr)},
        {"train", totals_json(train)},
        {"fused", totals_json(fused)},
        {"layers", nlohmann::json::array()}};
    if (headless) report["headless"] = true;
    if (!fused.features.empty()) {
        report["features"] = nlohmann::json::array();
        for (size_t i = 0; i < fused.features.size(); ++i) {
            const Value &v = fused.values[fused.features[i]];
            report["features"].push_back({{"name", fused.feature_names[i]},
                                          {"shape", shape_json(v)}, {"stride", shape.height / v.h}});
        }
    }
    const Graph &listed = o.train_layers ? train : fused;
    for (const Op &op : listed.ops) report["layers"].push_back(layer_json(listed, op));
    if (o.memory) {
        CompileOptions co;
        co.target = o.target;
        report["memory"] = memory_report(fused, shape, co);
    }

    if (o.json)
        std::cout << report.dump(2) << "\n";
    else
        print_table(report);
    if (!o.json && report.contains("features"))
        for (const auto &f : report["features"])
            std::printf("feature %s: %s (stride %d)\n", f["name"].get<std::string>().c_str(),
                        shape_text(f["shape"]).c_str(), f["stride"].get<int>());
    if (!o.json && o.memory) {
        const auto &m = report["memory"];
        auto num = [&](const char *key) {
            return m[key].is_null() ? std::string("?") : std::to_string(m[key].get<int64_t>());
        };
        std::printf("memory (firmware, %s, %s):\n", m["target"].get<std::string>().c_str(),
                    m["schedule"].get<std::string>().c_str());
        std::printf("  workspace            %12s bytes (%zu planned blocks; peak live %s)\n",
                    num("workspace_bytes").c_str(), size_t(m["allocations"].get<int64_t>()),
                    num("peak_live_bytes").c_str());
        std::printf("  naive activations    %12s bytes (every op's output held whole)\n",
                    num("naive_activation_bytes").c_str());
        std::printf("  code                 %12s bytes (pipeline + Halide runtime)\n", num("code_bytes").c_str());
        std::printf("  weights float32      %12s bytes\n", num("weight_bytes_f32").c_str());
        std::printf("  weights float16      %12s bytes (--weights-dtype f16)\n", num("weight_bytes_f16").c_str());
    }
}

void setup(CLI::App &app) {
    auto options = std::make_shared<InspectOptions>();
    CLI::App *cmd = app.add_subcommand(
        "inspect", "per-layer table (shapes, params, MACs) and totals of the train-time and folded graphs");
    add_model_options(cmd, options->model, /*weights_required=*/false);
    add_input_shape_options(cmd, options->model);
    cmd->add_flag("--json", options->json, "print the report as JSON");
    cmd->add_flag("--train", options->train_layers, "list the train-time layers instead of the folded ones");
    cmd->add_flag("--memory", options->memory,
                  "add the firmware memory plan (workspace vs naive activation bytes) and the "
                  "code and weight bytes of the library (compiles it; takes seconds)");
    cmd->add_option("--target,-t", options->target, "Halide target for --memory (or host)")
        ->capture_default_str();
    add_feature_options(cmd, options->features);
    cmd->callback([options] { run(*options); });
}

CommandRegistration registration(10, setup);

}  // namespace
}  // namespace m1c::cli
