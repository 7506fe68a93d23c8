#include "frontend/spec.h"

#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace m1c {
namespace {

// The five published variants (../shared/MOBILEONE.md, "Network shape").
Spec make_builtin(const std::string &name, std::array<double, 4> widths, int branches, bool se) {
    Spec s;
    s.name = name;
    s.width_multipliers = widths;
    s.num_conv_branches = branches;
    s.use_se = se;
    return s;
}

const std::vector<Spec> &builtins() {
    static const std::vector<Spec> specs = {
        make_builtin("s0", {0.75, 1.0, 1.0, 2.0}, 4, false),
        make_builtin("s1", {1.5, 1.5, 2.0, 2.5}, 1, false),
        make_builtin("s2", {1.5, 2.0, 2.5, 4.0}, 1, false),
        make_builtin("s3", {2.0, 2.5, 3.0, 4.0}, 1, false),
        make_builtin("s4", {3.0, 3.5, 3.5, 4.0}, 1, true),
    };
    return specs;
}

// Python's int() of a positive float: truncation, as the authors' constructor does.
int trunc_int(double v) { return static_cast<int>(std::floor(v)); }

const int kStageBase[4] = {64, 128, 256, 512};

}  // namespace

const std::vector<std::string> &builtin_variant_names() {
    static const std::vector<std::string> names = {"s0", "s1", "s2", "s3", "s4"};
    return names;
}

std::optional<Spec> builtin_spec(const std::string &name) {
    for (const Spec &s : builtins())
        if (s.name == name) return s;
    return std::nullopt;
}

void validate_spec(const Spec &spec, const std::string &source) {
    auto fail = [&](const std::string &key, const std::string &why) {
        throw Error(source + ": key \"" + key + "\": " + why);
    };
    for (int i = 0; i < 4; ++i) {
        double w = spec.width_multipliers[i];
        if (!std::isfinite(w) || w <= 0.0 || w > 64.0)
            fail("width_multipliers", "entry " + std::to_string(i) + " is " + std::to_string(w) +
                                          "; expected a number in (0, 64]");
        if (trunc_int(kStageBase[i] * w) < 1)
            fail("width_multipliers", "entry " + std::to_string(i) + " gives 0 channels");
    }
    for (int i = 0; i < 4; ++i) {
        int b = spec.blocks_per_stage[i];
        if (b < 1 || b > 64)
            fail("blocks_per_stage", "entry " + std::to_string(i) + " is " + std::to_string(b) +
                                         "; expected an integer in [1, 64]");
    }
    if (spec.num_conv_branches < 1 || spec.num_conv_branches > 16)
        fail("num_conv_branches", "is " + std::to_string(spec.num_conv_branches) +
                                      "; expected an integer in [1, 16]");
    if (spec.num_classes < 1 || spec.num_classes > 1000000)
        fail("num_classes", "is " + std::to_string(spec.num_classes) +
                                "; expected an integer in [1, 1000000]");
    if (spec.use_se) {
        // SE reduces channels by 1/16; the authors' int() truncation must leave at least one.
        // SE repeats: the last half of stage3 (never its first repeat) and all of stage4,
        // whose first depthwise block still has stage3's channels.
        for (int stage : {2, 3}) {
            int planes = trunc_int(kStageBase[stage] * spec.width_multipliers[stage]);
            int in_planes = stage == 3 ? trunc_int(kStageBase[2] * spec.width_multipliers[2]) : planes;
            bool stage_has_se = stage == 3 || spec.blocks_per_stage[2] / 2 > 0;
            if (stage_has_se && trunc_int(std::min(planes, in_planes) * 0.0625) < 1)
                fail("use_se", "stage" + std::to_string(stage + 1) +
                                   " has too few channels for squeeze-excite (need >= 16)");
        }
    }
}

Spec spec_from_json(const nlohmann::json &j, const std::string &source) {
    if (!j.is_object()) throw Error(source + ": a spec must be a JSON object");
    static const std::set<std::string> known = {"name", "width_multipliers", "blocks_per_stage",
                                                "num_conv_branches", "use_se", "num_classes"};
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!known.count(it.key()))
            throw Error(source + ": unknown key \"" + it.key() +
                        "\" (known: name, width_multipliers, blocks_per_stage, "
                        "num_conv_branches, use_se, num_classes)");
    auto need = [&](const char *key) -> const nlohmann::json & {
        if (!j.contains(key)) throw Error(source + ": missing key \"" + std::string(key) + "\"");
        return j.at(key);
    };
    auto type_error = [&](const char *key, const char *expected) {
        throw Error(source + ": key \"" + std::string(key) + "\" must be " + expected);
    };
    Spec s;
    const auto &name = need("name");
    if (!name.is_string() || name.get<std::string>().empty()) type_error("name", "a non-empty string");
    s.name = name.get<std::string>();

    const auto &widths = need("width_multipliers");
    if (!widths.is_array() || widths.size() != 4) type_error("width_multipliers", "an array of 4 numbers");
    for (int i = 0; i < 4; ++i) {
        if (!widths[i].is_number()) type_error("width_multipliers", "an array of 4 numbers");
        s.width_multipliers[i] = widths[i].get<double>();
    }
    const auto &blocks = need("blocks_per_stage");
    if (!blocks.is_array() || blocks.size() != 4) type_error("blocks_per_stage", "an array of 4 integers");
    for (int i = 0; i < 4; ++i) {
        if (!blocks[i].is_number_integer()) type_error("blocks_per_stage", "an array of 4 integers");
        auto v = blocks[i].get<int64_t>();
        s.blocks_per_stage[i] = static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(v, 1 << 20)));
    }
    auto get_int = [&](const char *key, int &out) {
        const auto &v = need(key);
        if (!v.is_number_integer()) type_error(key, "an integer");
        out = static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(v.get<int64_t>(), 1 << 30)));
    };
    get_int("num_conv_branches", s.num_conv_branches);
    get_int("num_classes", s.num_classes);
    const auto &se = need("use_se");
    if (!se.is_boolean()) type_error("use_se", "true or false");
    s.use_se = se.get<bool>();
    validate_spec(s, source);
    return s;
}

Spec load_spec_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open spec file");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw Error(path + ": not valid JSON");
    return spec_from_json(j, path);
}

nlohmann::json spec_to_json(const Spec &spec) {
    return {{"name", spec.name},
            {"width_multipliers", spec.width_multipliers},
            {"blocks_per_stage", spec.blocks_per_stage},
            {"num_conv_branches", spec.num_conv_branches},
            {"use_se", spec.use_se},
            {"num_classes", spec.num_classes}};
}

NetworkLayout network_layout(const Spec &spec) {
    NetworkLayout net;
    auto add_block = [&](std::string prefix, int in, int out, int kernel, int stride, int groups,
                         int branches, bool se) {
        BlockLayout b;
        b.prefix = std::move(prefix);
        b.in_channels = in;
        b.out_channels = out;
        b.kernel = kernel;
        b.stride = stride;
        b.groups = groups;
        b.conv_branches = branches;
        b.has_scale = kernel > 1;
        b.has_identity = in == out && stride == 1;
        b.has_se = se;
        b.se_channels = se ? trunc_int(out * 0.0625) : 0;
        net.blocks.push_back(b);
    };
    int in_planes = std::min(64, trunc_int(64 * spec.width_multipliers[0]));
    // The authors build stage0 without passing num_conv_branches, so it has one branch.
    add_block("stage0", 3, in_planes, 3, 2, 1, 1, false);
    for (int stage = 0; stage < 4; ++stage) {
        int planes = trunc_int(kStageBase[stage] * spec.width_multipliers[stage]);
        int repeats = spec.blocks_per_stage[stage];
        int se_repeats = 0;
        if (spec.use_se && stage == 2) se_repeats = repeats / 2;
        if (spec.use_se && stage == 3) se_repeats = repeats;
        for (int r = 0; r < repeats; ++r) {
            std::string p = "stage" + std::to_string(stage + 1) + ".";
            bool se = r >= repeats - se_repeats;
            int stride = r == 0 ? 2 : 1;
            add_block(p + std::to_string(2 * r), in_planes, in_planes, 3, stride, in_planes,
                      spec.num_conv_branches, se);
            add_block(p + std::to_string(2 * r + 1), in_planes, planes, 1, 1, 1,
                      spec.num_conv_branches, se);
            in_planes = planes;
        }
    }
    net.features = in_planes;
    net.num_classes = spec.num_classes;
    return net;
}

}  // namespace m1c
