// The parts of N.h that depend on which target runs (c_header.h: dispatch_text and friends).
// N_m1c_target_index() decides as Halide's dispatcher in libN.a decides: the first target
// whose features halide_can_use_target_features accepts, else the last (the baseline).
// N_selected_target() names it; a firmware library also takes that target's workspace plan
// (each target's schedule makes its own allocations).
// ARM64 Linux/Android multi-target libraries: Halide 14's runtime does not know whether the
// CPU has dot products or fp16 arithmetic (it lets every target through), so N.h installs a
// check of the kernel's HWCAP bits in front of Halide's default one (process-wide, and only
// ever narrower than the default).
#include <algorithm>
#include <sstream>

#include "codegen/c_header.h"

namespace m1c::codegen {

std::string arm_can_use_text(const HeaderInfo &h) {
    std::ostringstream o;
    o << "/* Halide 14's runtime cannot tell ARM64 CPUs apart: which targets this one can run,\n"
         " * from the kernel's HWCAP bits (asimddp: dot products; fphp + asimdhp: fp16). */\n"
         "#include <sys/auxv.h>\n"
         "int halide_default_can_use_target_features(int count, const uint64_t *features);\n"
         "typedef int (*m1c_can_use_target_features_t)(int count, const uint64_t *features);\n"
         "m1c_can_use_target_features_t halide_set_custom_can_use_target_features(m1c_can_use_target_features_t f);\n"
         "static int @N@_m1c_can_use(int count, const uint64_t *features) {\n"
         "    const unsigned long hw = getauxval(AT_HWCAP);\n"
      << "    if (count > " << h.arm_dot_prod_bit / 64 << " && ((features[" << h.arm_dot_prod_bit / 64 << "] >> "
      << h.arm_dot_prod_bit % 64 << ") & 1u) && !(hw & (1ul << 20))) return 0;\n"
      << "    if (count > " << h.arm_fp16_bit / 64 << " && ((features[" << h.arm_fp16_bit / 64 << "] >> "
      << h.arm_fp16_bit % 64 << ") & 1u) && !((hw & (1ul << 9)) && (hw & (1ul << 10)))) return 0;\n"
      << "    return halide_default_can_use_target_features(count, features);\n"
         "}\n\n";
    return o.str();
}

std::string dispatch_text(const HeaderInfo &h) {
    const size_t k = h.targets.size();
    const size_t w = h.target_features.empty() ? 1 : h.target_features.front().size();
    std::ostringstream o;
    o << "\n/* Which of the library's " << k << " target" << (k == 1 ? "" : "s")
      << " @RUN_FN@ uses on this CPU (a Halide target string). A multi-target library\n"
         " * (m1c compile --target a,b,c) holds a pipeline per target; each run takes the first\n"
         " * the CPU supports (asked through Halide's runtime), else the last, the baseline. */\n"
      << "#define @N@_TARGET_COUNT " << k << "\n";
    if (k == 1) {
        o << "static inline int @N@_m1c_target_index(void) { return 0; }\n"
          << "static inline const char *@N@_selected_target(void) { return \"" << h.targets[0] << "\"; }\n";
        return o.str();
    }
    o << "int halide_can_use_target_features(int count, const uint64_t *features);\n"
      << "static inline int @N@_m1c_target_index(void) {\n"
      << "    static const uint64_t features[" << k << "][" << w << "] = {\n";
    for (const auto &words : h.target_features) {
        o << "        {";
        for (size_t i = 0; i < words.size(); ++i) o << (i ? ", " : "") << "0x" << std::hex << words[i] << std::dec << "ull";
        o << "},\n";
    }
    o << "    };\n"
      << "    int i;\n"
      << (h.arm_hwcaps ? "    halide_set_custom_can_use_target_features(@N@_m1c_can_use);\n" : "")
      << "    for (i = 0; i + 1 < " << k << "; ++i)\n"
      << "        if (halide_can_use_target_features(" << w << ", features[i])) return i;\n"
      << "    return " << k - 1 << ";\n"
      << "}\n"
      << "static inline const char *@N@_selected_target(void) {\n"
      << "    static const char *const targets[" << k << "] = {\n";
    for (const std::string &t : h.targets) o << "        \"" << t << "\",\n";
    o << "    };\n"
      << "    return targets[@N@_m1c_target_index()];\n"
      << "}\n";
    return o.str();
}

namespace {

void plan_table(std::ostringstream &o, const std::string &var,
                const std::vector<std::pair<int64_t, int64_t>> &plan) {
    o << "static const uint32_t " << var << "[" << std::max<size_t>(2, 2 * plan.size()) << "] = {\n";
    for (const auto &[offset, bytes] : plan) o << "    " << offset << "u, " << bytes << "u,\n";
    if (plan.empty()) o << "    0u, 0u /* no heap allocations */\n";
    o << "};\n";
}

}  // namespace

std::string firmware_plan_text(const HeaderInfo &h) {
    std::ostringstream o;
    o << "/* The workspace plan made by m1c: offset and size in bytes of each halide_malloc of a run,\n"
         " * in the order the pipeline makes them";
    if (h.plans.size() == 1) {
        o << ". */\n";
        plan_table(o, "@N@_m1c_plan", h.plans.front());
        return o.str();
    }
    o << "; one per target (the run takes the plan of the\n"
         " * target it runs, N_m1c_target_index), each fitting N_WORKSPACE_BYTES. */\n";
    for (size_t t = 0; t < h.plans.size(); ++t) plan_table(o, "@N@_m1c_plan_" + std::to_string(t), h.plans[t]);
    o << "static inline uint32_t @N@_m1c_select_plan(const uint32_t **plan) {\n"
      << "    static const uint32_t *const plans[" << h.plans.size() << "] = {";
    for (size_t t = 0; t < h.plans.size(); ++t) o << (t ? ", " : "") << "@N@_m1c_plan_" << t;
    o << "};\n"
      << "    static const uint32_t blocks[" << h.plans.size() << "] = {";
    for (size_t t = 0; t < h.plans.size(); ++t) o << (t ? ", " : "") << h.plans[t].size() << "u";
    o << "};\n"
      << "    const int t = @N@_m1c_target_index();\n"
      << "    *plan = plans[t];\n"
      << "    return blocks[t];\n"
      << "}\n";
    return o.str();
}

std::string firmware_plan_select_text(const HeaderInfo &h) {
    if (h.plans.size() == 1)
        return "    ctx.plan = @N@_m1c_plan;\n"
               "    ctx.count = @N@_WORKSPACE_BLOCKS;\n";
    // Every target is held to the largest workspace: a size that works on one CPU works on all.
    return "    if (workspace_bytes < (size_t)@N@_WORKSPACE_BYTES) {\n"
           "        m1c_copy_error(@N@_m1c_error, \"@N@_run_in_sized: fewer than @N@_WORKSPACE_BYTES bytes (the \"\n"
           "                       \"largest workspace of the library's targets, asked for whichever runs)\");\n"
           "        return @N@_ERR_WORKSPACE_TOO_SMALL;\n"
           "    }\n"
           "    ctx.count = @N@_m1c_select_plan(&ctx.plan);\n";
}

}  // namespace m1c::codegen
