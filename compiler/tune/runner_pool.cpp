// The runner pool. See runner_pool.h.
#include "tune/runner_pool.h"

#include "core/error.h"

namespace m1c::tune {

RunnerPool::RunnerPool(std::vector<std::unique_ptr<Runner>> runners, PoolOptions options)
    : options_(options) {
    if (runners.empty()) throw Error("tune: no runner");
    for (auto &r : runners) {
        RunnerState s;
        s.runner = std::move(r);
        runners_.push_back(std::move(s));
    }
}

RunnerPool::~RunnerPool() {
    cancel_ = true;
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return running_ == 0; });
    for (Run &r : runs_)
        if (r.thread.joinable()) r.thread.join();
}

int RunnerPool::submit(PoolJob job) {
    std::lock_guard<std::mutex> lock(mutex_);
    const int id = int(jobs_.size());
    JobState j;
    j.job = std::move(job);
    jobs_.push_back(std::move(j));
    queue_.push_back(id);
    ++pending_;
    dispatch();
    return id;
}

int RunnerPool::pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_;
}

int RunnerPool::running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_;
}

int RunnerPool::alive() const {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const RunnerState &r : runners_) n += !r.dropped;
    return n;
}

void RunnerPool::drop(int runner, const std::string &why) {
    std::lock_guard<std::mutex> lock(mutex_);
    drop_locked(runner, why);
    dispatch();
    changed_.notify_all();
}

bool RunnerPool::next(PoolDone &done, std::vector<std::string> &messages, bool wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (wait) changed_.wait(lock, [&] { return !done_.empty() || !messages_.empty() || pending_ == 0; });
    reap();
    for (std::string &m : messages_) messages.push_back(std::move(m));
    messages_.clear();
    if (done_.empty()) return false;
    done = std::move(done_.front());
    done_.pop_front();
    --pending_;
    return true;
}

int RunnerPool::pick(const JobState &j) const {
    auto free = [&](int i) {
        const RunnerState &r = runners_[size_t(i)];
        return !r.dropped && r.busy < options_.slots;
    };
    if (j.job.runner >= 0) return free(j.job.runner) ? j.job.runner : -1;
    // Another runner than the ones this job failed on, while one is left.
    bool untried_alive = false;
    for (size_t i = 0; i < runners_.size(); ++i)
        untried_alive |= !runners_[i].dropped && !j.failed_on.count(int(i));
    // The least busy; among equals, the next in turn (every runner gets work).
    int best = -1;
    const int n = int(runners_.size());
    for (int t = 0; t < n; ++t) {
        const int i = (turn_ + t) % n;
        if (!free(i) || (untried_alive && j.failed_on.count(i))) continue;
        if (best < 0 || runners_[size_t(i)].busy < runners_[size_t(best)].busy) best = i;
    }
    return best;
}

void RunnerPool::dispatch() {
    bool any_alive = false;
    for (const RunnerState &r : runners_) any_alive |= !r.dropped;
    for (auto it = queue_.begin(); it != queue_.end();) {
        const int id = *it;
        const JobState &j = jobs_[size_t(id)];
        if (!any_alive || (j.job.runner >= 0 && runners_[size_t(j.job.runner)].dropped)) {
            it = queue_.erase(it);
            give_up(id, any_alive ? "its runner was dropped" : "no runner is left");
            continue;
        }
        const int r = pick(j);
        if (r < 0) {
            ++it;
            continue;
        }
        it = queue_.erase(it);
        if (j.job.runner < 0) turn_ = (r + 1) % int(runners_.size());
        start(id, r);
    }
}

void RunnerPool::start(int id, int runner) {
    RunnerState &r = runners_[size_t(runner)];
    ++r.busy;
    ++running_;
    const PoolJob job = jobs_[size_t(id)].job;  // a copy: jobs_ may grow meanwhile
    Runner *runner_ptr = r.runner.get();
    const double timeout = job.timeout_s >= 0 ? job.timeout_s : options_.timeout_s;
    runs_.emplace_back();
    auto self = std::prev(runs_.end());
    self->thread = std::thread([this, id, runner, job, runner_ptr, timeout, self] {
        bool ok = false;
        BatchResult result;
        std::string error;
        try {
            result = job.read(runner_ptr->run(job.binary, job.args, timeout, &cancel_));
            ok = true;
        } catch (const std::exception &e) {
            error = e.what();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        finish(id, runner, ok, std::move(result), error);
        self->finished = true;
        changed_.notify_all();
    });
}

void RunnerPool::finish(int id, int runner, bool ok, BatchResult result, const std::string &error) {
    RunnerState &r = runners_[size_t(runner)];
    --r.busy;
    --running_;
    if (cancel_) return;
    JobState &j = jobs_[size_t(id)];
    if (ok) {
        r.failures = 0;
        PoolDone d;
        d.id = id;
        d.ok = true;
        d.result = std::move(result);
        d.runner = runner;
        done_.push_back(std::move(d));
        dispatch();
        return;
    }
    ++j.attempts;
    j.failed_on.insert(runner);
    const bool again = j.attempts < options_.max_attempts;
    messages_.push_back("runner " + r.runner->describe() + " failed " + j.job.name + ": " + error.substr(0, 600) +
                        (again ? "; " + j.job.name + " is queued again (attempt " + std::to_string(j.attempts + 1) +
                                     " of " + std::to_string(options_.max_attempts) + ")"
                               : ""));
    if (!r.dropped && ++r.failures >= options_.max_failures)
        drop_locked(runner, "it failed " + std::to_string(r.failures) + " runs in a row");
    if (again)
        queue_.push_front(id);  // first in line, for another runner
    else
        give_up(id, "it failed " + std::to_string(j.attempts) + " times; last: " + error.substr(0, 300));
    dispatch();
}

void RunnerPool::give_up(int id, const std::string &why) {
    PoolDone d;
    d.id = id;
    d.error = why;
    done_.push_back(std::move(d));
}

void RunnerPool::drop_locked(int runner, const std::string &why) {
    RunnerState &r = runners_[size_t(runner)];
    if (r.dropped) return;
    r.dropped = true;
    int left = 0;
    for (const RunnerState &s : runners_) left += !s.dropped;
    messages_.push_back("runner " + r.runner->describe() + " dropped: " + why + "; " + std::to_string(left) +
                        " runner" + (left == 1 ? "" : "s") + " left");
}

void RunnerPool::reap() {
    for (auto it = runs_.begin(); it != runs_.end();) {
        if (!it->finished) {
            ++it;
            continue;
        }
        if (it->thread.joinable()) it->thread.join();
        it = runs_.erase(it);
    }
}

}  // namespace m1c::tune
