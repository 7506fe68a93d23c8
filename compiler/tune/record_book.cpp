// The records file of a tuning run. See record_book.h.
#include "tune/record_book.h"

#include <climits>
#include <filesystem>
#include <sstream>

namespace m1c::tune {

using nlohmann::json;
using schedules::TuningRecord;

json remote_device(const std::string &cpu, const Halide::Target &target) {
    json features = json::array();
    std::istringstream parts(target.to_string());
    std::string part;
    for (int i = 0; std::getline(parts, part, '-'); ++i)
        if (i >= 3) features.push_back(part);  // after arch-bits-os
    return json{{"cpu", cpu}, {"features", features}, {"runner", "remote"}};
}

RecordBook::RecordBook(std::string path, json device, Halide::Target target, int threads)
    : path_(std::move(path)), device_(std::move(device)), target_(target), threads_(threads) {}

const std::vector<TuningRecord> &RecordBook::load() {
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) loaded_ = schedules::read_records(path_);
    return loaded_;
}

bool RecordBook::mine(const TuningRecord &r) const {
    if (!schedules::same_target_class(r.target, target_) || r.threads != threads_) return false;
    const bool local = device_.value("runner", "") == "local";
    if ((r.device.value("runner", "") == "local") != local) return false;
    return r.device.at("cpu") == device_.at("cpu");
}

TuningRecord RecordBook::make(const json &op, const json &config, const Measurement &m) const {
    TuningRecord rec;
    rec.device = device_;
    rec.target = target_.to_string();
    rec.threads = threads_;
    rec.op = op;
    rec.config = config;
    rec.median_ms = m.median_ms;
    rec.runs = m.runs;
    rec.when = schedules::utc_now();
    return rec;
}

void RecordBook::add(int seq, const json &op, const json &config, const Measurement &m) {
    added_[seq].push_back(make(op, config, m));
}

void RecordBook::confirm(const json &op, const json &config, const Measurement &m) {
    bool found = false;
    auto update = [&](TuningRecord &rec) {
        if (!mine(rec) || rec.op != op || rec.config != config) return;
        rec.median_ms = m.median_ms;
        rec.runs = m.runs;
        rec.when = schedules::utc_now();
        rec.confirmed = found = true;
    };
    for (TuningRecord &rec : loaded_) update(rec);
    for (auto &[seq, recs] : added_)
        for (TuningRecord &rec : recs) update(rec);
    if (found) return;
    TuningRecord rec = make(op, config, m);
    rec.confirmed = true;
    added_[INT_MAX].push_back(std::move(rec));
}

void RecordBook::for_each(const std::function<void(const TuningRecord &)> &fn) const {
    for (const TuningRecord &r : loaded_) fn(r);
    for (const auto &[seq, recs] : added_)
        for (const TuningRecord &r : recs) fn(r);
}

size_t RecordBook::size() const {
    size_t n = loaded_.size();
    for (const auto &[seq, recs] : added_) n += recs.size();
    return n;
}

void RecordBook::write() const {
    std::vector<TuningRecord> all;
    all.reserve(size());
    for_each([&](const TuningRecord &r) { all.push_back(r); });
    schedules::write_records(path_, all);
}

}  // namespace m1c::tune
