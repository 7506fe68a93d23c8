// Shared by the test suites: fixture paths, JSON fixture reading, running the m1c binary.
#pragma once
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace m1c::test {

inline std::string fixture(const std::string &name) { return std::string(M1C_FIXTURES) + "/" + name; }

inline nlohmann::json read_json(const std::string &path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

struct CommandResult {
    int status = -1;
    std::string output;  // stdout and stderr together
};

// Runs `m1c <args>` through the shell (arguments are trusted test strings).
inline CommandResult run_m1c(const std::string &args) {
    CommandResult r;
    std::string cmd = std::string(M1C_BINARY) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

inline const char *const kVariants[] = {"s0", "s1", "s2", "s3", "s4"};

}  // namespace m1c::test
