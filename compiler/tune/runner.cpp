// Local and command-template runners, and running a shell command with a time limit. See
// runner.h.
#include "tune/runner.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"

extern char **environ;

namespace m1c::tune {

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

namespace {

// Process groups of the commands running now, for the signal handler: a fixed table of
// atomics (a handler may not lock or allocate).
constexpr int kMaxGroups = 256;
std::atomic<pid_t> running_groups[kMaxGroups];

extern "C" void stop_groups_and_die(int sig) {
    for (auto &g : running_groups) {
        const pid_t p = g.load();
        if (p > 0) ::kill(-p, SIGTERM);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

// Runner commands live in their own process groups (so a timeout can kill everything they
// started); they then miss the terminal's Ctrl-C, which this handler forwards. A signal
// the parent process ignores (nohup) stays ignored.
void install_handlers_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction old {};
            if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
            struct sigaction sa {};
            sa.sa_handler = stop_groups_and_die;
            sigemptyset(&sa.sa_mask);
            ::sigaction(sig, &sa, nullptr);
        }
    });
}

int register_group(pid_t pg) {
    for (int i = 0; i < kMaxGroups; ++i) {
        pid_t empty = 0;
        if (running_groups[i].compare_exchange_strong(empty, pg)) return i;
    }
    return -1;
}

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe2(fd, O_CLOEXEC) != 0) throw Error("tune: cannot create a pipe");
    }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
    void close_end(int i) {
        if (fd[i] >= 0) ::close(fd[i]);
        fd[i] = -1;
    }
};

pid_t spawn_shell(const std::string &command, Pipe &out, Pipe &err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);  // never m1c's stdin
    posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);  // its own process group, led by the shell
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    const char *argv[] = {"sh", "-c", command.c_str(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, const_cast<char **>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw Error("tune: cannot run /bin/sh: " + std::string(std::strerror(rc)));
    out.close_end(1);
    err.close_end(1);
    return pid;
}

}  // namespace

CommandResult run_shell(const std::string &command, double timeout_s, const std::atomic<bool> *cancel,
                        size_t max_output) {
    using clock = std::chrono::steady_clock;
    install_handlers_once();
    Pipe out, err;
    const pid_t pid = spawn_shell(command, out, err);
    const int slot = register_group(pid);
    CommandResult r;
    const auto start = clock::now();
    auto seconds_since = [](clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    };
    int wstatus = 0;
    bool exited = false;
    clock::time_point exited_at, kill_at;
    bool term_sent = false;
    char buf[65536];
    // Read both pipes until they close; the shell's exit ends the wait after 2 s even if
    // something it left behind holds them open.
    while (out.fd[0] >= 0 || err.fd[0] >= 0) {
        pollfd fds[2];
        int n = 0;
        for (Pipe *p : {&out, &err})
            if (p->fd[0] >= 0) fds[n++] = pollfd{p->fd[0], POLLIN, 0};
        if (::poll(fds, nfds_t(n), 100) < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Pipe &p = fds[i].fd == out.fd[0] ? out : err;
            std::string &dst = &p == &out ? r.out : r.err;
            const ssize_t got = ::read(p.fd[0], buf, sizeof buf);
            if (got > 0 && dst.size() < max_output) dst.append(buf, size_t(got));
            if (got > 0 && dst.size() >= max_output && r.stopped.empty())
                r.stopped = "printed more than " + std::to_string(max_output >> 20) + " MiB";
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) p.close_end(0);
        }
        if (!exited && ::waitpid(pid, &wstatus, WNOHANG) == pid) exited = true, exited_at = clock::now();
        if (exited && seconds_since(exited_at) > 2) break;
        if (r.stopped.empty() && timeout_s > 0 && seconds_since(start) > timeout_s) {
            char t[64];
            std::snprintf(t, sizeof t, "timed out after %.0f s", timeout_s);
            r.stopped = t;
        }
        if (r.stopped.empty() && cancel && cancel->load()) r.stopped = "cancelled";
        if (!r.stopped.empty() && !term_sent) {
            ::kill(-pid, SIGTERM);
            term_sent = true;
            kill_at = clock::now();
        }
        if (term_sent && (exited || seconds_since(kill_at) > 3)) break;
    }
    if (term_sent) ::kill(-pid, SIGKILL);  // whatever ignored SIGTERM, and what it left behind
    if (!exited) ::waitpid(pid, &wstatus, 0);
    if (slot >= 0) running_groups[slot].store(0);
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    return r;
}

namespace {

std::string tail(const std::string &s, size_t n = 2000) {
    return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

std::string signal_name(int status) {
    if (status <= 128 || status > 128 + 64) return "";
    const char *name = ::strsignal(status - 128);
    return name ? std::string(" (signal ") + std::to_string(status - 128) + ": " + name + ")" : "";
}

class CommandRunner : public Runner {
public:
    explicit CommandRunner(std::string tmpl) : tmpl_(std::move(tmpl)) {}

    std::string run(const std::string &binary, const std::vector<std::string> &args, double timeout_s,
                    const std::atomic<bool> *cancel) override {
        std::string cmd = tmpl_;
        const size_t at = cmd.find("{bin}");
        std::string argv;
        for (const std::string &a : args) argv += " " + shell_quote(a);
        if (at != std::string::npos)
            cmd.replace(at, 5, shell_quote(binary) + argv);
        else
            cmd += (cmd.empty() ? "" : " ") + shell_quote(binary) + argv;
        const CommandResult r = run_shell(cmd, timeout_s, cancel);
        // What happened first, then the command (the pool's messages name the runner).
        const std::string err = r.err.empty() ? "" : ": " + tail(r.err);
        if (!r.stopped.empty()) throw Error(r.stopped + " (`" + cmd + "`)" + err);
        if (r.status != 0)
            throw Error("exited with status " + std::to_string(r.status) + signal_name(r.status) + " (`" + cmd +
                        "`)" + err);
        return r.out;
    }
    std::string describe() const override { return tmpl_.empty() ? "local" : "\"" + tmpl_ + "\""; }
    bool local() const override { return tmpl_.empty(); }

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
