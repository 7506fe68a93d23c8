// The tuning driver behind run_tune (tune.h).
//
// Batch `seq` is proposed from the results of batches 0 .. seq - jobs, applied in batch
// order (model_search.h): up to `jobs` batches are in flight (compiled, queued, measuring)
// while the next one compiles, and the search proposes the same batches whichever runner
// measures them and whenever they come back. Results are recorded and reported as each
// batch comes back. Then the final passes (tuner_passes.cpp): the confirmation of each op's
// best configurations side by side with its default, the whole model default vs tuned.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <random>

#include "codegen/lowered.h"
#include "tune/measure.h"
#include "tune/model_search.h"
#include "tune/record_book.h"
#include "tune/runner_pool.h"
#include "tune/tune.h"

namespace m1c::tune {

class Tuner {
public:
    Tuner(const Graph &fused, const InputShape &shape, const TuneOptions &options, std::ostream &log);
    void run();

private:
    struct OpenBatch {
        BatchPlan plan;
        BuiltBatch built;
        bool done = false;
        BatchResult result;
    };

    // tuner.cpp: the runners, the search loop
    void probe();
    void search();
    bool budget_left(int trials) const;
    void submit(BatchPlan plan);
    void settle(int upto);
    bool collect(bool wait);
    void batch_done(int seq, const PoolDone &d);
    void progress(const OpenBatch &b, int runner);
    void submit_job(const BuiltBatch &built, const std::string &name, double timeout_s, int runner,
                    std::function<void(const PoolDone &)> handler);
    double elapsed() const;

    // tuner_passes.cpp: the final passes, the summary
    struct PassBatch {
        std::vector<Candidate> batch;
        std::vector<std::string> labels;
        double size = 0;  // candidate runs (timeouts scale with it)
        bool ok = false;
        BatchResult result;
    };
    void measure_now(std::vector<PassBatch> &batches, const MeasureOptions &mo, const std::string &name);
    void confirm();
    void final_check();
    void summary();

    const Graph &fused_;
    InputShape shape_;
    TuneOptions o_;
    std::ostream &log_;
    std::mt19937 rng_;
    codegen::LoweredPipeline pipeline_;
    Halide::Target target_;
    schedules::CpuParams cp_;
    MeasureOptions mo_;
    ModelSearch search_;
    std::unique_ptr<RunnerPool> pool_;
    std::unique_ptr<RecordBook> book_;
    nlohmann::json device_;
    std::string device_cpu_;
    std::chrono::steady_clock::time_point start_;

    std::map<int, OpenBatch> open_;                                // by seq, until applied
    std::map<int, std::function<void(const PoolDone &)>> handlers_;  // by pool job id
    int next_seq_ = 0;         // batches 0 .. next_seq_ - 1 are submitted
    int applied_ = 0;          // batches 0 .. applied_ - 1 are applied
    int trials_ = 0;           // proposed
    int trials_done_ = 0;      // in batches that came back
    int batches_done_ = 0;
    double last_done_s_ = 0;   // elapsed() when the latest batch came back
    bool lost_runners_ = false;  // every runner was dropped
};

}  // namespace m1c::tune
