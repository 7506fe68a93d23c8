// Sharing tuning records (`m1c records merge|show`): records files from several machines,
// runs or people combined into one, and a readable summary of one. Every file is read with
// read_records (records.h): a bad one is refused as --schedule refuses it.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "records.h"

namespace m1c::schedules {

struct MergedRecords {
    std::vector<TuningRecord> records;  // every file's records, files in order
    size_t duplicates = 0;              // records equal in every field to an earlier one, dropped
};

// Keeps every measurement; a record equal in every field to one already taken (the same
// measurement: a file merged twice, or merged into a copy of itself) is kept once.
MergedRecords merge_records(const std::vector<std::string> &paths);

// "dw3x3+pw 128->128 28x28" from an op key (search_space.h's unit_key); "?" parts for
// keys of unknown shape (records files are edited by hand).
std::string describe_op_key(const nlohmann::json &key);

// Per device and target: the number of records and ops, then per op its measurements and
// the record --schedule would pick (confirmed first, then fastest).
std::string summarize_records(const std::vector<TuningRecord> &records);

}  // namespace m1c::schedules
