// Tuning records (`m1c tune --out FILE`, read by `--schedule FILE`): one measured
// configuration of one tuning unit on one device, as JSON:
//   {"m1c_tuning_records": 2, "records": [
//     {"device": {"cpu": "AMD EPYC ...", "features": ["avx512", ...], "runner": "local"},
//      "target": "x86-64-linux-avx512-...", "threads": 1, "op": {<unit_key>}, "config": {<knobs>},
//      "median_ms": 0.081, "runs": 15, "when": "2026-11-25T00:10:00Z"}, ...]}
// "threads": the Halide threads the unit was measured with (`m1c tune --threads`; 0: all the
// device's cores). Version 1 files (no "threads") are read as measured with 1 thread, the
// only count `m1c tune` measured with before version 2.
// Every measured configuration is kept (the search resumes from them); users take the
// fastest per op. "median_ms" is the time of the unit's measurement pipeline (the unit plus
// a small fixed producer and head, the same for every configuration of the unit); a record
// whose config is {"baseline": true} times that producer and head alone.
#pragma once
#include <string>
#include <vector>

#include <Halide.h>
#include <nlohmann/json.hpp>

namespace m1c::schedules {

struct TuningRecord {
    nlohmann::json device;  // {"cpu": string, "features": [string...], "runner"?: string}
    std::string target;     // Halide target string the code was compiled for
    int threads = 1;        // Halide threads while measured (0: all cores)
    nlohmann::json op;      // unit_key
    nlohmann::json config;  // config_to_json
    double median_ms = 0;
    int runs = 0;
    std::string when;
    // Re-measured in tune's final pass side by side with the op's default configuration
    // (same binary, interleaved): comparable with each other whatever the machine's load
    // did between batches. Users prefer confirmed records.
    bool confirmed = false;
};

constexpr int kRecordsVersion = 2;        // written
constexpr int kOldestRecordsVersion = 1;  // still read (threads = 1)

// Throws m1c::Error naming `path` and what is wrong (missing, not JSON, wrong version,
// wrong types). Knob legality is checked where a record is used (it needs the op's shape).
std::vector<TuningRecord> read_records(const std::string &path);
// Atomically (temporary file + rename).
void write_records(const std::string &path, const std::vector<TuningRecord> &records);

// This machine: /proc/cpuinfo's model name and the host target's features.
nlohmann::json host_device();
// The CPU model of a /proc/cpuinfo text ("model name", else ARM's implementer/part).
std::string cpu_model_from_cpuinfo(const std::string &cpuinfo);

// Whether code tuned for target `recorded` fits `target`: same arch, bits, OS and vector
// ISA class (the knobs' meaning depends on the vector width and register count).
bool same_target_class(const std::string &recorded, const Halide::Target &target);

std::string utc_now();  // "2026-11-25T00:10:00Z"

}  // namespace m1c::schedules
