#include "codegen/manifest.h"

#include "frontend/spec.h"
#include "frontend/weight_check.h"

namespace m1c::codegen {

nlohmann::json manifest_json(const LoadedModel &model, const LoweredPipeline &p,
                             const ManifestInfo &info) {
    using nlohmann::json;
    const WeightStore &ws = p.weights;
    const int64_t weight_bytes = ws.blob_bytes();
    const bool f16 = ws.dtype() == WeightsDType::F16;
    const bool int8 = p.precision == Precision::Int8;
    json j;
    j["m1c_version"] = "0.1.0";
    j["name"] = info.name;
    j["variant"] = model.spec.name;
    j["spec"] = spec_to_json(model.spec);
    j["spec_origin"] = model.spec_origin;
    j["target"] = info.target;
    j["target_requested"] = info.target_requested;
    j["targets"] = info.targets;  // run-time dispatch: the first the CPU supports runs
    j["function"] = info.pipeline_fn;
    j["input"] = {{"shape", {p.shape.batch, 3, p.shape.height, p.shape.width}},
                  {"layout", "NCHW"},
                  {"dtype", "float32"}};
    if (p.features.empty()) {
        j["output"] = {{"shape", {p.shape.batch, p.num_classes}}, {"dtype", "float32"}};
    } else {  // a backbone build: the feature maps, in the order N_run_features returns them
        j["features"] = json::array();
        for (const LoweredFeature &f : p.features)
            j["features"].push_back({{"name", f.name}, {"shape", {f.n, f.c, f.h, f.w}},
                                     {"stride", p.shape.height / f.h}, {"layout", "NCHW"},
                                     {"dtype", "float32"}});
    }
    j["precision"] = info.precision.is_null() ? nlohmann::json{{"precision", "f32"}} : info.precision;
    if (int8)
        j["precision"]["activation_storage"] =
            p.act_offset == 0 ? "uint8 code q (x86: vpdpbusd takes u8 x s8)"
                              : "int8 q - 128 (ARM: sdot takes s8 x s8)";
    json w = {{"checkpoint", model.weights_path},
              {"checkpoint_sha256", info.checkpoint_sha256},
              {"checkpoint_format", weight_format_name(model.format)},
              {"mode", ws.external() ? "external" : "embedded"},
              {"dtype", int8 ? "int8 (+ float32 scales, biases, squeeze-excite)"
                             : f16 ? "float16" : "float32"},
              {"tensors_count", ws.entries().size()},
              {"floats", ws.total_floats()},
              {"bytes", weight_bytes}};
    w["blob_floats"] = ws.blob_floats();
    if (int8) {
        w["int8_values"] = ws.total_i8();
        w["blob_int8_bytes"] = ws.blob_i8_bytes();
    }
    if (ws.external()) {
        w["file"] = info.weights_file;
        w["file_bytes"] = 64 + 4 * ws.blob_floats() + ws.blob_i8_bytes();
        w["file_sha256"] = info.weights_file_sha256;
        w["payload_floats"] = ws.blob_floats();
        w["payload_sha256"] = info.payload_sha256;
        w["header_bytes"] = 64;
    }
    // Where each tensor is in the blob (N.weights payload, or the embedded constant).
    json tensors = json::array();
    for (const auto &e : ws.entries())
        tensors.push_back({{"name", e.name},
                           {"source", e.source},
                           {e.int8 ? "offset_int8_blob" : "offset_floats", e.offset},
                           {"extents_innermost_first", e.extents}});
    w["tensors"] = tensors;
    j["weights"] = w;
    const std::string &sn = info.schedule_name;
    std::string source = "built-in default templates (schedules/)";
    if (sn.rfind("autoscheduler/", 0) == 0)
        source = "Halide's " + sn.substr(14) + " autoscheduler (--autoscheduler)";
    else if (sn.rfind("tuned/", 0) == 0)
        source = "tuned records (--schedule), default templates for ops without a record";
    j["schedule"] = {{"name", sn}, {"source", source}, {"ops", info.schedule_ops}};
    j["graph"] = {{"fused_ops", info.num_ops}, {"activation_layout", "c, x, y, n (channels innermost)"}};
    j["sizes"] = {{"library_bytes", info.library_bytes},
                  {"weight_bytes", weight_bytes},
                  {"embedded_weights_bytes", ws.external() ? 0 : weight_bytes},
                  {"code_runtime_and_metadata_bytes",
                   info.library_bytes - (ws.external() ? 0 : weight_bytes)}};
    // From the ELF sections of libN.a (null for other object formats): code is the
    // pipeline plus Halide's whole runtime, before the linker drops unused functions.
    const ObjectSizes &o = info.object_sizes;
    j["sizes"]["code_bytes"] = o.known ? json(o.code_bytes) : json(nullptr);
    j["sizes"]["rodata_bytes"] = o.known ? json(o.rodata_bytes) : json(nullptr);
    j["sizes"]["data_bytes"] = o.known ? json(o.data_bytes) : json(nullptr);
    j["sizes"]["bss_bytes"] = o.known ? json(o.bss_bytes) : json(nullptr);
    if (!info.instructions.is_null()) j["sizes"]["instructions"] = info.instructions;
    j["firmware"] = !info.memory.is_null();
    if (!info.memory.is_null()) j["memory"] = info.memory;
    j["timings_seconds"] = {{"lower_and_schedule", info.lower_seconds},
                            {"halide_compile", info.compile_seconds}};
    if (!info.memory.is_null()) j["timings_seconds"]["allocation_trace"] = info.trace_seconds;
    return j;
}

}  // namespace m1c::codegen
