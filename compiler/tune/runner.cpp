// Local and command-template runners. See runner.h.
#include "tune/runner.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"

namespace m1c::tune {

namespace fs = std::filesystem;

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

CommandResult run_shell(const std::string &command) {
    // stderr to a temporary file: read both without juggling two pipes.
    char tmpl[] = "/tmp/m1c-runner-err-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) throw Error("tune: cannot create a temporary file");
    ::close(fd);
    CommandResult r;
    FILE *pipe = ::popen((command + " 2>" + shell_quote(tmpl)).c_str(), "r");
    if (!pipe) {
        fs::remove(tmpl);
        throw Error("tune: cannot run: " + command);
    }
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int st = ::pclose(pipe);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    std::ifstream err(tmpl);
    std::stringstream ss;
    ss << err.rdbuf();
    r.err = ss.str();
    std::error_code ec;
    fs::remove(tmpl, ec);
    return r;
}

namespace {

std::string tail(const std::string &s, size_t n = 2000) {
    return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

class CommandRunner : public Runner {
public:
    explicit CommandRunner(std::string tmpl) : tmpl_(std::move(tmpl)) {}

    std::string run(const std::string &binary, const std::vector<std::string> &args) override {
        std::string cmd = tmpl_;
        const size_t at = cmd.find("{bin}");
        std::string argv;
        for (const std::string &a : args) argv += " " + shell_quote(a);
        if (at != std::string::npos)
            cmd.replace(at, 5, shell_quote(binary) + argv);
        else
            cmd += (cmd.empty() ? "" : " ") + shell_quote(binary) + argv;
        const CommandResult r = run_shell(cmd);
        if (r.status != 0)
            throw Error("runner " + describe() + ": `" + cmd + "` exited with status " +
                        std::to_string(r.status) + (r.err.empty() ? "" : ": " + tail(r.err)));
        return r.out;
    }
    std::string describe() const override { return tmpl_.empty() ? "local" : "\"" + tmpl_ + "\""; }

private:
    std::string tmpl_;
};

}  // namespace

std::unique_ptr<Runner> local_runner() { return std::make_unique<CommandRunner>(""); }
std::unique_ptr<Runner> command_runner(const std::string &t) {
    if (t.find_first_not_of(" \t") == std::string::npos)
        throw Error("--runner: empty command (omit --runner to measure on this machine)");
    return std::make_unique<CommandRunner>(t);
}

}  // namespace m1c::tune
