// The records file of a tuning run: the records it started from (kept, in their order) and
// the new ones in batch order, whatever order the batches come back in (runners finish
// when they finish; the file must not depend on it). Rewritten atomically (temporary file +
// rename) after every batch: a kill at any moment leaves a valid file to resume from.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <Halide.h>
#include <nlohmann/json.hpp>

#include "records.h"
#include "tune/measure.h"

namespace m1c::tune {

// The device of records measured by `cpu` through a command runner ({"cpu", "features" of
// the target, "runner": "remote"}); runs on this machine use schedules::host_device().
nlohmann::json remote_device(const std::string &cpu, const Halide::Target &target);

class RecordBook {
public:
    RecordBook(std::string path, nlohmann::json device, Halide::Target target, int threads = 1);

    // Reads the file if it exists (its records are kept as they are) and returns them.
    const std::vector<schedules::TuningRecord> &load();
    // Measured on this kind of device for this target class: what a resumed search uses.
    bool mine(const schedules::TuningRecord &r) const;

    // A new measurement of batch `seq` (records of one batch keep the order they are added in).
    void add(int seq, const nlohmann::json &op, const nlohmann::json &config, const Measurement &m);
    // A measurement of the confirmation pass: replaces the times of this device's records of
    // (op, config), marking them confirmed, or adds a confirmed record.
    void confirm(const nlohmann::json &op, const nlohmann::json &config, const Measurement &m);
    void write() const;

    void for_each(const std::function<void(const schedules::TuningRecord &)> &fn) const;
    size_t size() const;
    const std::string &path() const { return path_; }

private:
    schedules::TuningRecord make(const nlohmann::json &op, const nlohmann::json &config, const Measurement &m) const;

    std::string path_;
    nlohmann::json device_;
    Halide::Target target_;
    int threads_ = 1;  // Halide threads while measuring (m1c tune --threads)
    std::vector<schedules::TuningRecord> loaded_;
    std::map<int, std::vector<schedules::TuningRecord>> added_;  // by batch
};

}  // namespace m1c::tune
