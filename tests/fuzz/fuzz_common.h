// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp).
//
// The rule every target enforces: m1c::Error is a clean rejection of a bad input and is
// caught; anything else (another exception, a crash, an ASan/UBSan report, a hang, an
// allocation over -rss_limit_mb) escapes and is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "frontend/detect_spec.h"
#include "frontend/spec.h"
#include "frontend/weight_check.h"

namespace m1c::fuzz {

// Most readers take a path: the input is written to one scratch file per process, in
// $M1C_FUZZ_TMPDIR, else /dev/shm (memory), else /tmp. Removed at normal exit.
class ScratchFile {
public:
    explicit ScratchFile(const std::string &tag) {
        const char *dir = std::getenv("M1C_FUZZ_TMPDIR");
        std::string d = dir && *dir ? dir : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        path_ = d + "/m1c_fuzz_" + tag + "_" + std::to_string(getpid());
    }
    ~ScratchFile() { std::remove(path_.c_str()); }
    ScratchFile(const ScratchFile &) = delete;
    ScratchFile &operator=(const ScratchFile &) = delete;

    // Replaces the file's content; aborts (a finding in the harness, not in m1c) on failure.
    const std::string &write(const uint8_t *data, size_t size) {
        std::FILE *f = std::fopen(path_.c_str(), "wb");
        if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
            std::perror(path_.c_str());
            std::abort();
        }
        return path_;
    }
    const std::string &path() const { return path_; }

private:
    std::string path_;
};

// What `m1c inspect --weights` does with tensors a reader accepted: detect the format and
// the variant, then check them against a spec. Every m1c::Error is a clean rejection.
inline void inspect_tensors(const TensorMap &tensors, const std::string &path) {
    const WeightFormat format = detect_weight_format(tensors);
    try {
        detect_spec(tensors, path);
    } catch (const Error &) {
    }
    try {
        check_weights(*builtin_spec("s0"), format, tensors, path);
    } catch (const Error &) {
    }
}

}  // namespace m1c::fuzz
