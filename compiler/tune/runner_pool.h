// A pool of runners measuring batches at once, one thread per run in flight, surviving
// runners that fail.
//
// Each runner measures up to `slots` batches at once (1: a runner is one device; a Slurm
// template stands for a partition of devices). A job goes to a free runner, preferring
// runners it has not failed on. A run fails when the command fails (exit status, signal),
// exceeds the timeout (it is killed, with everything it started) or prints anything but a
// complete report (the job's `read` throws); a failed job is queued again, first in line,
// for another runner. A runner that fails `max_failures` runs in a row is dropped; a job
// that failed `max_attempts` times is given up (one of its candidates may crash the
// device). When no runner is left, every job still queued is given up.
//
// Only the caller's thread touches the caller's state: results and messages come back
// through next().
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tune/measure.h"
#include "tune/runner.h"

namespace m1c::tune {

struct PoolOptions {
    int slots = 1;
    double timeout_s = 0;   // per run (0: none)
    int max_failures = 3;   // failed runs in a row before a runner is dropped
    int max_attempts = 3;   // failed runs of one job before it is given up
};

struct PoolJob {
    std::string name;                 // for messages: "batch 7", "probe"
    std::string binary;
    std::vector<std::string> args;
    double timeout_s = -1;            // <0: the pool's
    int runner = -1;                  // >= 0: only this runner (a probe)
    // Turns the output into a result; throws m1c::Error when the output is not believable.
    std::function<BatchResult(const std::string &output)> read;
};

struct PoolDone {
    int id = -1;
    bool ok = false;        // measured; else given up
    BatchResult result;
    int runner = -1;        // who measured it
    std::string error;      // why it was given up
};

class RunnerPool {
public:
    RunnerPool(std::vector<std::unique_ptr<Runner>> runners, PoolOptions options);
    ~RunnerPool();  // cancels the runs in flight (their commands are killed) and waits for them

    int submit(PoolJob job);  // returns the job's id (0, 1, ...)
    // A job that is done or given up into `done` (true), and the messages waiting (failures,
    // drops) into `messages`. With `wait`, blocks until there is either, or nothing is pending.
    bool next(PoolDone &done, std::vector<std::string> &messages, bool wait = true);

    int pending() const;       // submitted, not yet returned by next()
    int running() const;       // being run by a runner now
    int alive() const;         // runners not dropped
    size_t size() const { return runners_.size(); }
    const Runner &runner(int i) const { return *runners_[size_t(i)].runner; }
    // Drops a runner (e.g. it measures another kind of device than the others).
    void drop(int runner, const std::string &why);

private:
    struct RunnerState {
        std::unique_ptr<Runner> runner;
        int busy = 0, failures = 0;
        bool dropped = false;
    };
    struct JobState {
        PoolJob job;
        int attempts = 0;
        std::set<int> failed_on;
    };
    struct Run {
        std::thread thread;
        bool finished = false;
    };

    void dispatch();               // under the lock: start queued jobs on free runners
    int pick(const JobState &j) const;
    void start(int id, int runner);
    void finish(int id, int runner, bool ok, BatchResult result, const std::string &error);
    void give_up(int id, const std::string &why);
    void drop_locked(int runner, const std::string &why);
    void reap();                   // joins finished threads

    std::vector<RunnerState> runners_;
    PoolOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<JobState> jobs_;
    std::deque<int> queue_;
    std::deque<PoolDone> done_;
    std::vector<std::string> messages_;
    std::list<Run> runs_;
    int pending_ = 0, running_ = 0;
    int turn_ = 0;  // the runner to try first next time
    std::atomic<bool> cancel_{false};
};

}  // namespace m1c::tune
