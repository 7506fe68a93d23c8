// N.json: what was compiled, from what, for what, how, and how big.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "codegen/lowered.h"
#include "codegen/object_sizes.h"
#include "frontend/load_model.h"

namespace m1c::codegen {

struct ManifestInfo {
    std::string name, pipeline_fn, target, target_requested;
    std::vector<std::string> targets;   // one, or the list of a multi-target library
    std::string checkpoint_sha256;
    std::string schedule_name;
    std::vector<std::string> schedule_ops;
    int num_ops = 0;
    double lower_seconds = 0, compile_seconds = 0;
    int64_t library_bytes = 0;
    ObjectSizes object_sizes;           // sections of libN.a
    double trace_seconds = 0;           // firmware: the allocation trace
    nlohmann::json memory;              // firmware: memory_plan_json (null otherwise)
    std::string weights_file, weights_file_sha256, payload_sha256;  // external mode
    nlohmann::json precision;           // CompileOptions::precision
    nlohmann::json instructions;        // isa_check.h counts (null if not scanned)
};

nlohmann::json manifest_json(const LoadedModel &model, const LoweredPipeline &p,
                             const ManifestInfo &info);

}  // namespace m1c::codegen
