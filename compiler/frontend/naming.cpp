#include "frontend/naming.h"

#include <vector>

#include "core/error.h"

namespace m1c {
namespace {

std::vector<std::string> split(const std::string &key) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1)
        parts.push_back(key.substr(start, dot - start));
    parts.push_back(key.substr(start));
    return parts;
}

std::string join(const std::vector<std::string> &parts, size_t from) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) out += (out.empty() ? "" : ".") + parts[i];
    return out;
}

bool is_index(const std::string &s) {
    return !s.empty() && s.size() < 5 && s.find_first_not_of("0123456789") == std::string::npos;
}

bool starts_with(const std::string &s, const std::string &prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// The names inside one block, renamed part by part (`to_timm` or back).
std::string block_rest(const std::vector<std::string> &parts, size_t from, bool to_timm) {
    struct Pair { const char *authors, *timm; };
    static const Pair renames[] = {{"rbr_conv", "conv_kxk"}, {"rbr_scale", "conv_scale"},
                                   {"rbr_skip", "identity"}};
    std::vector<std::string> out;
    for (size_t i = from; i < parts.size(); ++i) {
        const std::string &p = parts[i];
        const std::string next = i + 1 < parts.size() ? parts[i + 1] : "";
        bool done = false;
        for (const Pair &r : renames)
            if (p == (to_timm ? r.authors : r.timm)) {
                out.push_back(to_timm ? r.timm : r.authors);
                done = true;
            }
        if (done) continue;
        if (to_timm && p == "se" && (next == "reduce" || next == "expand")) {
            out.push_back("attn");
            out.push_back(next == "reduce" ? "fc1" : "fc2");
            ++i;
        } else if (!to_timm && p == "attn" && (next == "fc1" || next == "fc2")) {
            out.push_back("se");
            out.push_back(next == "fc1" ? "reduce" : "expand");
            ++i;
        } else {
            out.push_back(p);
        }
    }
    return join(out, 0);
}

std::string with_rest(const std::string &head, const std::string &rest) {
    return rest.empty() ? head : head + "." + rest;
}

}  // namespace

const char *naming_name(Naming n) { return n == Naming::Timm ? "timm" : "authors'"; }

Naming detect_naming(const TensorMap &weights, const std::string &source) {
    std::string authors, timm;  // one key of each naming, for the error
    for (const auto &kv : weights) {
        const std::string &k = kv.first;
        const std::vector<std::string> parts = split(k);
        if (parts[0] == "stem" || parts[0] == "stages" || starts_with(k, "head.fc."))
            timm = k;
        else if (parts[0] == "linear" ||
                 (parts[0].size() == 6 && starts_with(parts[0], "stage") && parts[0][5] >= '0' &&
                  parts[0][5] <= '4'))
            authors = k;
    }
    if (!authors.empty() && !timm.empty())
        throw Error(source + ": mixes the authors' key names (" + authors + ") and timm's (" + timm +
                    "); a checkpoint must use one naming");
    return timm.empty() ? Naming::Authors : Naming::Timm;
}

std::string timm_key(const std::string &key) {
    const std::vector<std::string> parts = split(key);
    const std::string &p0 = parts[0];
    if (p0 == "linear") return with_rest("head.fc", join(parts, 1));
    if (p0 == "stage0") return with_rest("stem", block_rest(parts, 1, true));
    if (p0.size() == 6 && starts_with(p0, "stage") && p0[5] >= '1' && p0[5] <= '4')
        return with_rest("stages." + std::to_string(p0[5] - '1'), block_rest(parts, 1, true));
    return key;
}

std::string authors_key(const std::string &key) {
    const std::vector<std::string> parts = split(key);
    const std::string &p0 = parts[0];
    if (p0 == "head" && parts.size() > 1 && parts[1] == "fc") return with_rest("linear", join(parts, 2));
    if (p0 == "stem") return with_rest("stage0", block_rest(parts, 1, false));
    if (p0 == "stages" && parts.size() > 1 && parts[1].size() == 1 && parts[1][0] >= '0' &&
        parts[1][0] <= '3' && parts.size() > 2 && is_index(parts[2]))
        return with_rest("stage" + std::to_string(parts[1][0] - '0' + 1), block_rest(parts, 2, false));
    return key;
}

std::string key_in_naming(Naming naming, const std::string &key) {
    return naming == Naming::Timm ? timm_key(key) : key;
}

TensorMap to_authors_naming(const TensorMap &weights, Naming from) {
    if (from == Naming::Authors) return weights;
    TensorMap out;
    for (const auto &[key, t] : weights) out[authors_key(key)] = t;
    return out;
}

TensorMap to_timm_naming(const TensorMap &authors_weights) {
    TensorMap out;
    for (const auto &[key, t] : authors_weights) out[timm_key(key)] = t;
    return out;
}

int timm_se_channels(int channels) {
    // timm.layers.make_divisible(v, divisor=8, min_value=None, round_limit=0.)
    const double v = channels / 16.0;
    return std::max(8, int(v + 4.0) / 8 * 8);
}

void check_timm_se_agrees(const Spec &spec, const std::string &source) {
    for (const BlockLayout &b : network_layout(spec).blocks) {
        if (!b.has_se || timm_se_channels(b.out_channels) == b.se_channels) continue;
        throw Error(source + ": timm-named checkpoint of spec \"" + spec.name + "\": block " +
                    timm_key(b.prefix) + " has " + std::to_string(b.out_channels) +
                    " channels, whose squeeze-excite timm reduces to make_divisible(" +
                    std::to_string(b.out_channels) + " / 16, 8) = " +
                    std::to_string(timm_se_channels(b.out_channels)) + " where the authors use int(" +
                    std::to_string(b.out_channels) + " * 0.0625) = " + std::to_string(b.se_channels) +
                    "; m1c builds the authors' architecture, so it cannot read this timm model");
    }
}

}  // namespace m1c
