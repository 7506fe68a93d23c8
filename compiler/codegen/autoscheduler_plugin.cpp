#include "codegen/autoscheduler_plugin.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>

#include <Halide.h>

#include "core/error.h"

namespace m1c::codegen {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    for (char &ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string joined_names() {
    std::string s;
    for (const auto &n : known_autoschedulers()) s += (s.empty() ? "" : ", ") + n;
    return s;
}

// The directory holding the libHalide this process actually runs: the plugins link against
// that very library (they register themselves into its table), so theirs is the one to use.
std::string halide_library_dir() {
    Dl_info info{};
    // Any function exported by libHalide will do.
    void (*fn)(const std::string &) = &Halide::load_plugin;
    if (dladdr(reinterpret_cast<void *>(fn), &info) == 0 || !info.dli_fname) return {};
    std::error_code ec;
    fs::path lib = fs::canonical(info.dli_fname, ec);
    return ec ? std::string() : lib.parent_path().string();
}

// Candidates for `stem` (libautoschedule_adams2019) in `dir`: the plain .so, then versioned
// names (.so.14, .so.14.0.0) should a packager add them.
std::vector<fs::path> candidates_in(const std::string &dir, const std::string &stem) {
    std::vector<fs::path> out{fs::path(dir) / (stem + ".so")};
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    std::vector<fs::path> versioned;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        const std::string f = e.path().filename().string();
        if (f.rfind(stem + ".so.", 0) == 0) versioned.push_back(e.path());
    }
    std::sort(versioned.begin(), versioned.end());
    out.insert(out.end(), versioned.begin(), versioned.end());
    return out;
}

}  // namespace

const std::vector<std::string> &known_autoschedulers() {
    static const std::vector<std::string> names{"Adams2019", "Li2018", "Mullapudi2016"};
    return names;
}

std::string canonical_autoscheduler_name(const std::string &name) {
    for (const auto &n : known_autoschedulers())
        if (lower(n) == lower(name)) return n;
    throw Error("--autoscheduler \"" + name + "\": unknown autoscheduler; expected one of " +
                joined_names());
}

std::vector<std::string> autoscheduler_plugin_dirs() {
    std::vector<std::string> dirs;
    auto add = [&](const std::string &d) {
        if (!d.empty() && std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
    };
    if (const char *env = std::getenv("M1C_AUTOSCHEDULER_DIR")) add(env);
    const std::string here = halide_library_dir();
    if (!here.empty()) {
        add(here + "/halide14");
        add(here);
    }
    for (const char *base : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                             "/usr/local/lib", "/usr/lib"}) {
        add(std::string(base) + "/halide14");
        add(base);
    }
    return dirs;
}

void load_autoscheduler_plugin(const std::string &canonical) {
    static std::mutex mutex;
    static std::set<std::string> loaded;
    std::lock_guard<std::mutex> lock(mutex);
    if (loaded.count(canonical)) return;

    const std::string stem = "libautoschedule_" + lower(canonical);
    std::string tried, failures;
    for (const auto &dir : autoscheduler_plugin_dirs()) {
        for (const fs::path &path : candidates_in(dir, stem)) {
            tried += "\n  " + path.string();
            std::error_code ec;
            if (!fs::is_regular_file(path, ec)) continue;
            // dlopen first: its message says why a file does not load (missing symbols, wrong
            // architecture), where Halide::load_plugin only asserts. The handle is kept open
            // (the plugin must stay loaded), and load_plugin then finds it already there.
            if (!dlopen(path.c_str(), RTLD_LAZY | RTLD_GLOBAL)) {
                const char *why = dlerror();
                failures += "\n  " + path.string() + ": " + (why ? why : "dlopen failed");
                continue;
            }
            try {
                Halide::load_plugin(path.string());
            } catch (const Halide::Error &e) {
                failures += "\n  " + path.string() + ": " + e.what();
                continue;
            }
            loaded.insert(canonical);
            return;
        }
    }
    throw Error("--autoscheduler " + canonical + ": cannot load its Halide plugin " + stem +
                ".so (Debian package libhalide14-0-dev; or set M1C_AUTOSCHEDULER_DIR to its "
                "directory). Tried:" + tried + (failures.empty() ? "" : "\nFailed:" + failures));
}

}  // namespace m1c::codegen
