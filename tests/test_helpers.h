// Shared by the test suites: fixture paths, JSON fixture reading, running the m1c binary,
// loading a fixture model, comparing logits.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/load_model.h"
#include "ir/build_graph.h"
#include "passes/pipeline.h"

namespace m1c::test {

inline std::string fixture(const std::string &name) { return std::string(M1C_FIXTURES) + "/" + name; }
// The hub-style checkpoints and backbone references (tests/oracle/make_hub_fixtures.py).
inline std::string hub(const std::string &name) { return fixture("hub/" + name); }

// An empty directory build/<suite>/<name> (emptied if it exists) for a test's files.
inline std::filesystem::path fresh_dir(const std::string &suite, const std::string &name) {
    const std::filesystem::path d = std::filesystem::path(M1C_BUILD_DIR) / suite / name;
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

inline nlohmann::json read_json(const std::string &path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

struct CommandResult {
    int status = -1;
    std::string output;  // stdout and stderr together
};

// Runs a shell command (a trusted test string), stdout and stderr together.
inline CommandResult run_command(const std::string &command) {
    CommandResult r;
    const std::string cmd = command + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// Runs `m1c <args>` through the shell (arguments are trusted test strings).
inline CommandResult run_m1c(const std::string &args) { return run_command(std::string(M1C_BINARY) + " " + args); }

// max|a - b| / max|b| over the common length (b: the reference).
inline double relative_max_diff(const std::vector<float> &a, const std::vector<float> &b) {
    double diff = 0, mx = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
        mx = std::max(mx, std::fabs(double(b[i])));
    }
    return mx > 0 ? diff / mx : diff;
}

// A fixture checkpoint with its spec file, loaded, folded and fused for `shape`.
struct FixtureModel {
    LoadedModel model;
    Graph fused;
};
inline FixtureModel load_fixture_model(const std::string &spec_file, const std::string &weights_file,
                                       const InputShape &shape) {
    FixtureModel m;
    ModelRequest req;
    req.spec_path = fixture(spec_file);
    req.weights_path = fixture(weights_file);
    std::ostringstream log;
    m.model = load_model(req, log);
    m.fused = fold_and_fuse(build_graph(m.model.spec, m.model.format, m.model.weights, shape));
    return m;
}

inline const char *const kVariants[] = {"s0", "s1", "s2", "s3", "s4"};

}  // namespace m1c::test
