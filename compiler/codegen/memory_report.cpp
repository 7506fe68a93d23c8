// memory_report (`m1c inspect --memory`): the firmware memory plan and the library's sizes,
// computed as `m1c compile --firmware` would, without writing a library.
#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "codegen/codegen.h"
#include "codegen/firmware.h"
#include "codegen/lowered.h"
#include "codegen/object_sizes.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "passes/pipeline.h"

namespace m1c {

nlohmann::json memory_report(const Graph &fused, const InputShape &shape,
                             const CompileOptions &options) {
    namespace fs = std::filesystem;
    check_codegen_form(fused);
    Halide::Target target = codegen::firmware_target(codegen::parse_target(options.target));
    target = target.with_feature(Halide::Target::UserContext);
    const auto dtype = options.weights_f16 ? codegen::WeightsDType::F16 : codegen::WeightsDType::F32;
    codegen::LoweredPipeline p = codegen::lower(fused, shape, /*external_weights=*/false, dtype);
    codegen::FirmwarePlan plan = codegen::plan_firmware(p, fused, target);

    // The code: the library compiled into a scratch directory and measured.
    const fs::path dir = fs::temp_directory_path() / ("m1c-inspect-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::create_directories(dir, ec);
    codegen::ObjectSizes sizes;
    try {
        Halide::Module module = Halide::Pipeline(p.outputs()).compile_to_module(p.arguments(), "m1c_inspect", target);
        codegen::check_single_threaded(module);
        module.compile({{Halide::OutputFileType::static_library, (dir / "libm1c_inspect.a").string()}});
        sizes = codegen::static_library_sizes((dir / "libm1c_inspect.a").string());
    } catch (const Halide::Error &e) {
        fs::remove_all(dir, ec);
        throw Error(std::string("inspect --memory: Halide: ") + e.what());
    }
    fs::remove_all(dir, ec);

    nlohmann::json j = codegen::memory_plan_json(plan.memory, /*with_blocks=*/false);
    j["target"] = target.to_string();
    j["schedule"] = plan.schedule.name;
    j["weights_dtype"] = options.weights_f16 ? "float16" : "float32";
    j["weight_bytes"] = p.weights.blob_bytes();
    j["weight_bytes_f32"] = p.weights.blob_floats() * 4;
    j["weight_bytes_f16"] = p.weights.blob_floats() * 2;
    j["code_bytes"] = sizes.known ? nlohmann::json(sizes.code_bytes) : nlohmann::json(nullptr);
    j["rodata_bytes"] = sizes.known ? nlohmann::json(sizes.rodata_bytes) : nlohmann::json(nullptr);
    return j;
}

}  // namespace m1c
