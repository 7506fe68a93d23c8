// run_tune: options checked, a scratch directory, the tuner (tune/tuner.h).
#include "tune/tune.h"

#include <filesystem>
#include <unistd.h>

#include "core/error.h"
#include "tune/tuner.h"

namespace m1c::tune {

namespace fs = std::filesystem;

void run_tune(const Graph &fused, const InputShape &shape, const TuneOptions &o, std::ostream &log) {
    if (o.trials <= 0 && o.seconds <= 0) throw Error("give a budget: --trials N and/or --time 10m");
    if (o.out.empty()) throw Error("--out: no records file given");
    if (o.jobs < 0 || o.jobs > 256) throw Error("--jobs: expected 1 to 256 batches in flight");
    if (o.slots < 1 || o.slots > 256) throw Error("--slots: expected 1 to 256");
    if (o.compile_jobs < 1 || o.compile_jobs > 256) throw Error("--compile-jobs: expected 1 to 256");
    if (o.batch < 1 || o.batch > 1000) throw Error("--batch-size: expected 1 to 1000");
    if (o.runs < 1 || o.runs > 100000) throw Error("--runs: expected at least 1");
    if (o.timeout < 0) throw Error("--timeout: expected a positive duration");
    if (o.max_failures < 1 || o.max_failures > 1000) throw Error("--max-failures: expected 1 to 1000");
    if (o.runners.size() > 1024) throw Error("--runner: at most 1024 runners");
    // A directory of its own under --work-dir (or /tmp): several runs may share one.
    TuneOptions opts = o;
    std::string tmpl = (fs::path(o.work_dir.empty() ? "/tmp" : o.work_dir) / "m1c-tune-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        throw Error("tune: cannot create a directory in " + (o.work_dir.empty() ? std::string("/tmp") : o.work_dir));
    opts.work_dir = tmpl;
    struct Remove {
        std::string dir;
        ~Remove() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } remove{tmpl};
    Tuner(fused, shape, opts, log).run();
}

}  // namespace m1c::tune
