// A MobileOne architecture: the arguments of the authors' MobileOne constructor, plus the
// derived per-block layout (see ../shared/MOBILEONE.md). Built-in variants are s0..s4;
// custom specs come from JSON files with the same keys.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace m1c {

struct Spec {
    std::string name;
    std::array<double, 4> width_multipliers{};
    std::array<int, 4> blocks_per_stage{2, 8, 10, 1};
    int num_conv_branches = 1;
    bool use_se = false;
    int num_classes = 1000;
};

// One train-time MobileOneBlock of the network, in execution order.
struct BlockLayout {
    std::string prefix;  // checkpoint key prefix, e.g. "stage0", "stage2.7"
    int in_channels = 0, out_channels = 0;
    int kernel = 3, stride = 1, groups = 1;
    int conv_branches = 1;  // stage0 always has 1 in the authors' code, whatever k is
    bool has_scale = false;     // 1x1 scale branch: kernel > 1
    bool has_identity = false;  // BN identity branch: in == out and stride == 1
    bool has_se = false;
    int se_channels = 0;  // int(out_channels * 0.0625)
};

struct NetworkLayout {
    std::vector<BlockLayout> blocks;
    int features = 0;  // channels entering the head (planes of stage4)
    int num_classes = 0;
};

const std::vector<std::string> &builtin_variant_names();  // {"s0", ..., "s4"}
std::optional<Spec> builtin_spec(const std::string &name);  // nullopt for unknown names

// Parses and validates a custom spec; errors name `source` and the offending key.
Spec spec_from_json(const nlohmann::json &j, const std::string &source);
Spec load_spec_file(const std::string &path);
nlohmann::json spec_to_json(const Spec &spec);

// Throws m1c::Error if the spec cannot describe a network (zero widths, empty stages...).
void validate_spec(const Spec &spec, const std::string &source);

NetworkLayout network_layout(const Spec &spec);

}  // namespace m1c
