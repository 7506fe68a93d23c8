// N.h of a backbone build: the classifier header (c_header.cpp) with its logits output
// replaced by the feature maps. Every edit is checked to apply, so a change to the
// classifier templates cannot silently leave a logits API in a backbone header.
#include <sstream>

#include "codegen/c_header.h"
#include "core/error.h"

namespace m1c::codegen {
namespace {

void must_replace(std::string &s, const std::string &from, const std::string &to) {
    size_t pos = s.find(from);
    if (pos == std::string::npos) throw Error("internal: backbone header: template lacks \"" + from + "\"");
    for (; pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
}

std::string dims(const HeaderInfo::Feature &f) {
    return std::to_string(f.n) + " x " + std::to_string(f.c) + " x " + std::to_string(f.h) + " x " +
           std::to_string(f.w);
}

// The doc lines of the outputs: one per feature, with its shape and stride.
std::string feature_doc(const HeaderInfo &h) {
    std::ostringstream d;
    d << " *     features: @N@_NUM_FEATURES pointers, features[i] to @N@_feature_size(i) floats, written\n"
      << " *     NCHW float32 as PyTorch returns them (forward hooks on the stages):\n";
    for (size_t i = 0; i < h.features.size(); ++i) {
        const auto &f = h.features[i];
        d << " *       features[" << i << "] = " << f.name << ": " << dims(f) << " (stride "
          << h.height / f.h << ")\n";
    }
    return d.str();
}

std::string feature_macros(const HeaderInfo &h) {
    std::ostringstream m;
    m << "#define @N@_NUM_FEATURES " << h.features.size() << "\n";
    for (size_t i = 0; i < h.features.size(); ++i) {
        const auto &f = h.features[i];
        const std::string p = "#define @N@_FEATURE" + std::to_string(i);
        m << p << "_N " << f.n << "\n" << p << "_C " << f.c << "\n" << p << "_H " << f.h << "\n"
          << p << "_W " << f.w << "   /* " << f.name << " */\n";
    }
    return m.str();
}

// The body's output buffers: extents, declarations, construction, the Halide call.
void replace_outputs(std::string &t, const HeaderInfo &h) {
    const size_t k = h.features.size();
    std::ostringstream ext, make, pass, sig, null_check, size_fn;
    ext << "static const int32_t out_extents[" << k << "][4] = {";
    for (size_t i = 0; i < k; ++i) {
        const auto &f = h.features[i];
        ext << (i ? ", " : "") << "{" << f.w << ", " << f.h << ", " << f.c << ", " << f.n << "}";
        make << "    m1c_make_buffer(&out_buf[" << i << "], out_dim[" << i << "], features[" << i
             << "], 4, out_extents[" << i << "]);\n";
        pass << (i ? ", " : "") << "&out_buf[" << i << "]";
        sig << (i ? ",\n               " : "") << "m1c_halide_buffer_t *feature_" << f.name;
        null_check << " || !features[" << i << "]";
        size_fn << "    case " << i << ": return (size_t)" << int64_t(f.n) * f.c * f.h * f.w << "u;\n";
    }
    ext << "};";
    must_replace(t, "               m1c_halide_buffer_t *logits);", "               " + sig.str() + ");");
    must_replace(t, "static const int32_t out_extents[2] = {@N@_NUM_CLASSES, @N@_INPUT_N};", ext.str());
    must_replace(t, "out_dim[2];", "out_dim[" + std::to_string(k) + "][4];");
    must_replace(t, "in_buf, out_buf;", "in_buf, out_buf[" + std::to_string(k) + "];");
    must_replace(t, "    m1c_make_buffer(&out_buf, out_dim, logits, 2, out_extents);\n", make.str());
    must_replace(t, " &out_buf);", " " + pass.str() + ");");
    must_replace(t, "!input || !logits", "!input || !features" + null_check.str());
    must_replace(t, "static inline const char *@N@_last_error(void)",
                 "/* Floats of feature output i (0 for i outside [0, @N@_NUM_FEATURES)). */\n"
                 "static inline size_t @N@_feature_size(int i) {\n    switch (i) {\n" + size_fn.str() +
                     "    default: return 0;\n    }\n}\n\n"
                     "static inline const char *@N@_last_error(void)");
}

}  // namespace

std::string with_feature_outputs(const HeaderInfo &h, std::string t) {
    if (h.features.empty()) return t;
    must_replace(t, "#define @N@_NUM_CLASSES @CLASSES@\n", feature_macros(h));
    must_replace(t, "#define @N@_OUTPUT_SIZE (@N@_INPUT_N * @N@_NUM_CLASSES)                        /* floats */\n", "");
    must_replace(t, " *     logits: @N@_INPUT_N x @N@_NUM_CLASSES float32, written (row = image)\n", feature_doc(h));
    replace_outputs(t, h);
    if (h.firmware) {
        must_replace(t, "float *logits, void *workspace", "float *const *features, void *workspace");
        must_replace(t, "@N@_run_in", "@N@_run_features_in");
        must_replace(t, "input, logits or workspace", "input, features (or one of them) or workspace");
        must_replace(t, "return @N@_run_features_in_sized(input, logits,", "return @N@_run_features_in_sized(input, features,");
    } else {
        must_replace(t, "int @N@_run(const float *input, float *logits)",
                     "int @N@_run_features(const float *input, float *const *features)");
        must_replace(t, "@N@_run: null input or logits pointer", "@N@_run_features: null input or feature pointer");
        must_replace(t, "@N@_run", "@N@_run_features");
        must_replace(t, "@N@_run_features_features", "@N@_run_features");
    }
    return t;
}

}  // namespace m1c::codegen
