#include "codegen/target_list.h"

#include "codegen/targets.h"
#include "core/error.h"

namespace m1c::codegen {

const std::vector<std::pair<std::string, std::string>> &target_presets() {
    static const std::vector<std::pair<std::string, std::string>> presets = {
        {"x86-64-all",
         "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41,"
         "x86-64-linux-avx-avx2-f16c-fma-sse41,"
         "x86-64-linux-sse41"},
        {"arm64-all", "arm-64-linux-arm_dot_prod-arm_fp16,arm-64-linux"},
    };
    return presets;
}

std::vector<Halide::Target> parse_target_list(const std::string &text, bool int8) {
    std::string list = text;
    for (const auto &[name, targets] : target_presets())
        if (text == name) list = targets;
    std::vector<Halide::Target> out;
    std::vector<std::string> entries;
    size_t start = 0;
    while (true) {
        const size_t comma = list.find(',', start);
        entries.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (entries.size() == 1) return {parse_target(entries[0], int8)};
    const std::string why = "--target \"" + text + "\": ";
    for (const std::string &e : entries) {
        if (e.empty()) throw Error(why + "an empty entry in the list");
        if (e == "host")
            throw Error(why + "\"host\" cannot be part of a list (a list is for CPUs other than this one; "
                              "name the targets)");
        const Halide::Target t = parse_target(e, int8);
        if (!out.empty()) {
            const Halide::Target &first = out.front();
            if (t.arch != first.arch || t.bits != first.bits || t.os != first.os)
                throw Error(why + "\"" + e + "\" is for another architecture or OS than \"" + entries[0] +
                            "\"; one library holds code for one architecture and OS");
            for (const Halide::Target &u : out)
                if (u == t) throw Error(why + "\"" + e + "\" appears twice");
        }
        out.push_back(t);
    }
    return out;
}

int target_feature_word_count() { return (int(Halide::Target::FeatureEnd) + 63) / 64; }

std::vector<uint64_t> target_feature_words(const Halide::Target &target) {
    std::vector<uint64_t> words(size_t(target_feature_word_count()), 0);
    for (int f = 0; f < int(Halide::Target::FeatureEnd); ++f)
        if (target.has_feature(Halide::Target::Feature(f))) words[size_t(f / 64)] |= uint64_t(1) << (f % 64);
    return words;
}

}  // namespace m1c::codegen
