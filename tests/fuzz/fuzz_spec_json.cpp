// libFuzzer target: custom spec files (load_spec_file: JSON parsing, key and type checks,
// validate_spec), then what m1c builds from an accepted spec: the block layout, the list of
// expected tensors and the JSON it prints back.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static m1c::fuzz::ScratchFile file("spec");
    m1c::Spec spec;
    try {
        spec = m1c::load_spec_file(file.write(data, size));
    } catch (const m1c::Error &) {
        return 0;
    }
    const m1c::NetworkLayout net = m1c::network_layout(spec);
    if (net.blocks.empty() || net.features < 1) __builtin_trap();  // validated yet unusable
    for (const auto format : {m1c::WeightFormat::TrainTime, m1c::WeightFormat::Fused})
        (void)m1c::expected_tensors(spec, format);
    // An accepted spec must survive a round trip through the JSON m1c writes.
    const m1c::Spec again = m1c::spec_from_json(m1c::spec_to_json(spec), "round trip");
    if (again.blocks_per_stage != spec.blocks_per_stage ||
        again.width_multipliers != spec.width_multipliers)
        __builtin_trap();
    return 0;
}
