// compile_library: lower, schedule, compile ahead of time, write libN.a + N.h + N.json
// (+ N.weights) through a temporary directory so that a failure leaves nothing behind.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <unistd.h>

#include "codegen/c_header.h"
#include "codegen/codegen.h"
#include "codegen/firmware.h"
#include "codegen/isa_check.h"
#include "codegen/lowered.h"
#include "codegen/manifest.h"
#include "codegen/object_sizes.h"
#include "codegen/sha256.h"
#include "codegen/target_list.h"
#include "codegen/target_build.h"
#include "codegen/targets.h"
#include "core/error.h"
#include "passes/pipeline.h"
#include "schedule.h"

namespace m1c {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_file(const fs::path &path, const void *data, size_t bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char *>(data), std::streamsize(bytes));
    out.close();
    if (!out) throw Error(path.string() + ": write failed");
}

void write_text(const fs::path &path, const std::string &text) {
    write_file(path, text.data(), text.size());
}

// Removes the temporary directory (and the output directory if this compile created it and
// it is still empty) unless dismissed.
struct Cleanup {
    fs::path tmp, out;
    bool created_out = false, armed = true;
    ~Cleanup() {
        if (!armed) return;
        std::error_code ec;
        fs::remove_all(tmp, ec);
        if (created_out && fs::is_empty(out, ec)) fs::remove(out, ec);
    }
};

std::string describe(const LoadedModel &model) {
    std::string s = "MobileOne " + model.spec.name;
    if (!model.spec_origin.empty()) s += " (" + model.spec_origin + ")";
    // It goes into a C comment: no comment terminator, no line break.
    std::string clean;
    for (char ch : s) {
        if (ch == '\n' || ch == '\r') ch = ' ';
        if (ch == '/' && !clean.empty() && clean.back() == '*') clean += ' ';
        clean += ch;
    }
    return clean;
}

}  // namespace

void compile_library(const LoadedModel &model, const Graph &fused, const InputShape &shape,
                     const CompileOptions &options, std::ostream &log) {
    using codegen::HeaderInfo;
    const std::string &name = options.name;
    if (!codegen::valid_library_name(name))
        throw Error("--name \"" + name +
                    "\": the library name must be a C identifier (letters, digits, _; not "
                    "starting with a digit or __, at most 64 characters, not a C keyword)");
    if (options.out_dir.empty()) throw Error("--out-dir: no output directory given");
    if (options.firmware && !options.schedule.is_default())
        throw Error("--firmware uses the default single-threaded schedule: --schedule and "
                    "--autoscheduler are not supported with it");
    if (options.weights_f16 && options.external_weights)
        throw Error("--weights-dtype f16 needs --weights-mode embedded");
    const bool int8 = codegen::is_int8_graph(fused);
    // One target, or several in one library dispatching at run time (target_list.h).
    std::vector<Halide::Target> targets = codegen::parse_target_list(options.target, int8);
    const bool multi = targets.size() > 1;
    const Halide::Target requested = targets.front();  // its OS, before firmware's "noos"
    for (Halide::Target &t : targets) {
        if (options.firmware) t = codegen::firmware_target(t);
        t = t.with_feature(Halide::Target::UserContext);
    }
    const Halide::Target target = targets.front();
    check_codegen_form(fused);

    const auto t_lower = std::chrono::steady_clock::now();
    log << "m1c: lowering " << fused.ops.size() << " ops of " << model.spec.name
        << (int8 ? " to int8" : "") << " ("
        << shape.batch << "x3x" << shape.height << "x" << shape.width << ", weights "
        << (options.external_weights ? "external" : "embedded")
        << (options.weights_f16 ? " float16" : "") << (options.firmware ? ", firmware" : "")
        << (multi ? ", " + std::to_string(targets.size()) + " targets" : "") << ")\n";
    const std::vector<codegen::TargetBuild> builds = codegen::build_targets(fused, shape, options, targets, log);
    const codegen::LoweredPipeline &p = *builds.front().pipeline;
    const schedules::ScheduleReport &report = builds.front().schedule;
    double trace_seconds = 0;
    for (const codegen::TargetBuild &b : builds) trace_seconds += b.trace_seconds;
    // Firmware: N_WORKSPACE_BYTES is the largest of the targets' workspaces.
    const int largest = codegen::largest_workspace(builds);
    const codegen::MemoryPlan *workspace = largest >= 0 ? &builds[size_t(largest)].firmware->memory : nullptr;
    if (workspace)
        log << "m1c: workspace " << workspace->workspace_bytes << " bytes for " << workspace->blocks.size()
            << " allocations (all activations held whole: " << workspace->naive_activation_bytes
            << " bytes)" << (multi ? ", the largest of the targets'" : "") << "; traced in " << std::fixed
            << std::setprecision(1) << trace_seconds << " s\n" << std::defaultfloat;
    const double lower_seconds = seconds_since(t_lower) - trace_seconds;
    log << "m1c: schedule " << report.name << "\n";

    const fs::path out = options.out_dir;
    Cleanup cleanup;
    std::error_code ec;
    cleanup.created_out = !fs::exists(out, ec);
    fs::create_directories(out, ec);
    if (ec || !fs::is_directory(out))
        throw Error("--out-dir " + out.string() + ": cannot create directory" +
                    (ec ? " (" + ec.message() + ")" : ""));
    cleanup.out = out;
    cleanup.tmp = out / (".m1c-tmp-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(cleanup.tmp, ec);
    if (!fs::create_directory(cleanup.tmp, ec))
        throw Error(cleanup.tmp.string() + ": cannot create temporary directory");
    const fs::path &tmp = cleanup.tmp;

    const std::string fn = name + "_halide";
    std::string target_str;
    for (const Halide::Target &t : targets) target_str += (target_str.empty() ? "" : ",") + t.to_string();
    log << "m1c: compiling for " << target_str << " ..." << std::flush;
    const auto t_compile = std::chrono::steady_clock::now();
    try {
        codegen::compile_builds(builds, fn, (tmp / ("lib" + name + ".a")).string(), options.firmware);
    } catch (const Halide::Error &e) {
        log << " failed\n";
        throw Error("Halide failed to compile " + name + " for " + target_str + ": " + e.what());
    }
    const double compile_seconds = seconds_since(t_compile);
    log << " " << std::fixed << std::setprecision(1) << compile_seconds << " s\n"
        << std::defaultfloat;
    fs::remove(tmp / ("lib" + name + ".h"), ec);  // Halide's header: N.h replaces it
    const fs::path lib = tmp / ("lib" + name + ".a");
    if (!fs::exists(lib)) throw Error("Halide wrote no " + lib.filename().string());
    // What the code is made of (dot products, FMAs), and for `host`, proof that it runs here.
    const codegen::IsaReport isa = codegen::scan_static_library(lib.string(), target);
    if (options.target == "host") {
        const std::vector<std::string> lacking = codegen::instructions_this_cpu_lacks(isa);
        if (!lacking.empty()) {
            std::string list;
            for (const std::string &l : lacking) list += (list.empty() ? "" : "; ") + l;
            throw Error("internal error: the code generated for host uses instructions this CPU lacks: " +
                        list + " (nothing was written; please report this)");
        }
    }

    HeaderInfo h;
    h.name = name;
    h.pipeline_fn = fn;
    h.description = describe(model);
    h.target = target_str;
    for (const Halide::Target &t : targets) {
        h.targets.push_back(t.to_string());
        h.target_features.push_back(codegen::target_feature_words(t));
    }
    // (a firmware library asked for Linux/Android keeps the check: its OS is "noos" only to
    // Halide's runtime)
    h.arm_hwcaps = multi && target.arch == Halide::Target::ARM &&
                   (requested.os == Halide::Target::Linux || requested.os == Halide::Target::Android);
    h.arm_dot_prod_bit = int(Halide::Target::ARMDotProd);
    h.arm_fp16_bit = int(Halide::Target::ARMFp16);
    h.batch = shape.batch;
    h.height = shape.height;
    h.width = shape.width;
    h.classes = p.num_classes;
    for (const codegen::LoweredFeature &f : p.features) h.features.push_back({f.name, f.n, f.c, f.h, f.w});
    h.external_weights = options.external_weights;
    if (workspace) {
        h.firmware = true;
        h.workspace_bytes = workspace->workspace_bytes;
        h.workspace_alignment = codegen::MemoryPlan::kAlignment;
        h.guard_bytes = codegen::MemoryPlan::kGuardBytes;
        for (const codegen::TargetBuild &b : builds) {
            h.plans.emplace_back();
            for (const auto &block : b.firmware->memory.blocks) h.plans.back().emplace_back(block.offset, block.bytes);
        }
    }

    codegen::ManifestInfo info;
    info.name = name;
    info.pipeline_fn = fn;
    info.target = target_str;
    for (const Halide::Target &t : targets) info.targets.push_back(t.to_string());
    info.target_requested = options.target;
    info.checkpoint_sha256 = sha256_file(model.weights_path);
    info.schedule_name = report.name;
    info.schedule_ops = report.ops;
    info.num_ops = int(fused.ops.size());
    info.lower_seconds = lower_seconds;
    info.compile_seconds = compile_seconds;
    info.library_bytes = int64_t(fs::file_size(lib));
    info.object_sizes = codegen::static_library_sizes(lib.string());
    info.trace_seconds = trace_seconds;
    info.precision = options.precision;
    if (isa.scanned) {
        info.instructions = {{"total", isa.instructions}, {"classes", isa.counts}};
        log << "m1c: code: " << isa.instructions << " instructions";
        for (const auto &[cls, n] : isa.counts) log << ", " << cls << " " << n;
        log << "\n";
    }
    if (workspace) info.memory = codegen::firmware_memory_json(builds, largest);

    std::vector<std::string> files{"lib" + name + ".a"};
    if (options.external_weights) {
        const std::vector<float> &payload = p.weights.payload();
        const std::vector<int8_t> &payload_i8 = p.weights.payload_i8();
        Sha256 ph;
        ph.update(payload.data(), payload.size() * 4);
        ph.update(payload_i8.data(), payload_i8.size());
        h.payload_sha256 = ph.digest();
        h.weight_floats = int64_t(payload.size());
        h.weight_i8_bytes = int64_t(payload_i8.size());
        // Header: magic, u32 version, u32 header bytes, u64 floats, sha256, u64 int8 bytes
        // (version 2; version 1 files, float32 only, have 8 zero bytes there).
        unsigned char header[codegen::kWeightsHeaderBytes] = {};
        std::memcpy(header, codegen::kWeightsMagic, 8);
        const uint32_t version = payload_i8.empty() ? 1 : 2, header_bytes = codegen::kWeightsHeaderBytes;
        const uint64_t floats = payload.size(), i8_bytes = payload_i8.size();
        std::memcpy(header + 8, &version, 4);  // all supported targets are little-endian
        std::memcpy(header + 12, &header_bytes, 4);
        std::memcpy(header + 16, &floats, 8);
        std::memcpy(header + 24, h.payload_sha256.data(), 32);
        std::memcpy(header + 56, &i8_bytes, 8);
        const fs::path wpath = tmp / (name + ".weights");
        {
            std::ofstream wout(wpath, std::ios::binary | std::ios::trunc);
            wout.write(reinterpret_cast<const char *>(header), sizeof header);
            wout.write(reinterpret_cast<const char *>(payload.data()),
                       std::streamsize(payload.size() * 4));
            wout.write(reinterpret_cast<const char *>(payload_i8.data()),
                       std::streamsize(payload_i8.size()));
            wout.close();
            if (!wout) throw Error(wpath.string() + ": write failed");
        }
        info.weights_file = name + ".weights";
        info.payload_sha256 = hex(h.payload_sha256);
        info.weights_file_sha256 = sha256_file(wpath.string());
        files.push_back(name + ".weights");
    }
    write_text(tmp / (name + ".h"), codegen::c_header_text(h));
    files.push_back(name + ".h");
    write_text(tmp / (name + ".json"), codegen::manifest_json(model, p, info).dump(2) + "\n");
    files.push_back(name + ".json");  // last: its presence marks a complete library

    for (size_t i = 0; i < files.size(); ++i) {
        fs::rename(tmp / files[i], out / files[i], ec);
        if (ec) {
            std::error_code ignored;
            for (size_t j = 0; j < i; ++j) fs::remove(out / files[j], ignored);
            throw Error((out / files[i]).string() + ": cannot move into place (" + ec.message() + ")");
        }
    }
    cleanup.created_out = false;  // the directory now holds the library: keep it
    fs::remove_all(tmp, ec);
    cleanup.armed = false;
    log << "m1c: wrote " << (out / ("lib" + name + ".a")).string() << " ("
        << info.library_bytes / 1024 << " KiB), " << name << ".h, " << name << ".json"
        << (options.external_weights ? ", " + name + ".weights" : "") << "\n";
}

}  // namespace m1c
